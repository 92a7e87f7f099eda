#!/usr/bin/env python3
"""Write the plans of the second GPU session (bench/gpu_session/*_s2.*) for bench/pipeline_runs.py.

The base is `profile=embedded-full` as committed (bf16, NF4 materialised, batch 128, lr 1.6e-3, 3 epochs), one GPU.
The split seed stays 42 (the same 500 validation pairs and the same test set for every run); `train.seed` varies.

Call 3 (`plan_levers_s2.json`, split + train only): each lever over training seeds 1 and 2, weighed by the mean of
its best validation accuracies; the test split is never scored there. One H200 (the only kind lent in this
session): eight runs shared it, each run's step being mostly host work. Too many: each training process holds up to
~20 GB of GPU memory (activations at batch 128, the caching allocator), and a third of the runs ran out of memory;
four at a time fit.
Call 4 (`plan_final_s2.json`, every stage): the lever with the best mean ("win") alone on the machine for the
pipeline's time, then its seeds 2 and 3, the committed recipe ("base") over seeds 1-3 under the same code, and the
winner in fp32 over seeds 1-3, eight runs sharing the GPU.
"""

import json

from plan_base import HERE, eval_every, write_base


def main() -> None:
    write_base("base_full_s2.yaml")

    levers = {
        "base": {},
        "ls0.1": {"train.label_smoothing": 0.1},
        "nef5": {"train.neftune_alpha": 5.0},
        "ls0.1-nef5": {"train.label_smoothing": 0.1, "train.neftune_alpha": 5.0},
        "ls0.2": {"train.label_smoothing": 0.2},
        "b256": {"train.batch_size": 256, "train.lr": 2.4e-3, "train.eval_steps": eval_every(256, 3)},
        "wd0.1": {"train.weight_decay": 0.1},
        "drop0.15": {"lora.dropout": 0.15},
        "e4-ls0.1-nef5": {
            "train.epochs": 4,
            "train.eval_steps": eval_every(128, 4),
            "train.label_smoothing": 0.1,
            "train.neftune_alpha": 5.0,
        },
        "lr8e-4": {"train.lr": 8e-4},
        "nef10": {"train.neftune_alpha": 10.0},
        "verb-true-false": {
            "prompt.verbalizers": {"entailment": " true", "neutral": " maybe", "contradiction": " false"}
        },
    }
    runs = {f"{name}-s{seed}": {**o, "train.seed": seed} for name, o in levers.items() for seed in (1, 2)}
    sweep = {
        "base": "bench/gpu_session/base_full_s2.yaml",
        "phases": [{"name": "levers", "slots": ["0"] * 8, "stages": ["split", "train"], "runs": runs}],
    }
    (HERE / "plan_levers_s2.json").write_text(json.dumps(sweep, indent=1))

    final = {
        "base": "bench/gpu_session/base_full_s2.yaml",
        "choices": {
            "win": {"best_mean_of": "levers", "min_runs": 2, "fallback": {}, "fallback_name": "base"},
            "base": {"best_mean_of": "levers", "among": ["base"], "fallback": {}, "fallback_name": "base"},
        },
        "phases": [
            {"name": "alone", "slots": ["0"], "from": "win", "runs": {"win-s1": {"train.seed": 1}}},
            {
                "name": "seeds",
                "slots": ["0"] * 8,
                "from": "win",
                "runs": {
                    "win-s2": {"train.seed": 2},
                    "win-s3": {"train.seed": 3},
                    **{f"base-s{s}": {"train.seed": s, "_from": "base"} for s in (1, 2, 3)},
                    **{f"win-fp32-s{s}": {"train.seed": s, "model.compute_dtype": "fp32"} for s in (1, 2, 3)},
                },
            },
        ],
    }
    (HERE / "plan_final_s2.json").write_text(json.dumps(final, indent=1))


if __name__ == "__main__":
    main()
