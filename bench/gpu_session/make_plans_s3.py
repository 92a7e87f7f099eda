#!/usr/bin/env python3
"""Write the plans of the third GPU session (bench/gpu_session/*_s3.*) for bench/pipeline_runs.py.

The base is `profile=embedded-full` as committed after session 2 (bf16, NF4 materialised, batch 128, lr 1.6e-3,
3 epochs, label smoothing 0.1, NEFTune 5), one GPU. The split seed stays 42 (the same 500 validation pairs and the
same test set for every run); `train.seed` varies. Device kind nvidia-h200-x2: at most four training processes per
GPU (each holds up to ~20 GB; eight on one GPU ran out of memory in session 2).

`plan_levers_s3.json` (split + train only; the test split is never scored there): the committed recipe ("ctl",
training seeds 1 and 2, and seed 3 as its own group "ctl-seed3") and each lever over seeds 1 and 2, weighed by the
mean of their best validation accuracies; three runs per GPU pinned to it (seed 1 of each on GPU 0, seed 2 on GPU
1). Beside them, one slot spanning both GPUs runs the committed recipe with `train.gpus: 2` over seeds 1-3 (issue
25: validation on two GPUs against one GPU's, same seeds).
`plan_final_s3.json` (every stage): the lever with the best mean ("win") over seeds 1-3 in bf16 on GPU 0 and in fp32
on GPU 1, and, when the winner is not the committed recipe, the committed recipe's seed 2 (session 2 lost it).
"""

import json

from plan_base import HERE, eval_every, write_base


def main() -> None:
    base = write_base("base_full_s3.yaml")
    assert base["train"]["label_smoothing"] == 0.1 and base["train"]["neftune_alpha"] == 5.0, "not session 2's winner"

    # each lever: one change to the committed recipe (which has both regularisers), longest runs first
    levers = {
        "e5-ls0.2-wd0.1": {
            "train.epochs": 5,
            "train.eval_steps": eval_every(128, 5),
            "train.label_smoothing": 0.2,
            "train.weight_decay": 0.1,
        },
        "e4": {"train.epochs": 4, "train.eval_steps": eval_every(128, 4)},
        "lr1.2e-3-e4": {"train.lr": 1.2e-3, "train.epochs": 4, "train.eval_steps": eval_every(128, 4)},
        "b64-lr8e-4": {"train.batch_size": 64, "train.lr": 8e-4, "train.eval_steps": eval_every(64, 3)},
        "r64-a128": {"lora.r": 64, "lora.alpha": 128},
        "ls0.2": {"train.label_smoothing": 0.2},
        "nef10": {"train.neftune_alpha": 10.0},
        "drop0.15": {"lora.dropout": 0.15},
        "wd0.1": {"train.weight_decay": 0.1},
        "verb-true-false": {
            "prompt.verbalizers": {"entailment": " true", "neutral": " maybe", "contradiction": " false"}
        },
    }
    runs = {}
    for seed in (1, 2):  # seed 1 of every lever on GPU 0, seed 2 on GPU 1
        for name, o in levers.items():
            runs[f"{name}-s{seed}"] = {**o, "train.seed": seed, "_slot": str(seed - 1)}
    runs["ctl-s1"] = {"train.seed": 1, "_slot": "0"}
    runs["ctl-s2"] = {"train.seed": 2, "_slot": "1"}
    # seed 3 of the committed recipe is one GPU's side of the two-GPU comparison; its own group, so that the
    # recipe's mean is over seeds 1 and 2 like every lever's
    runs["ctl-seed3-s3"] = {"train.seed": 3, "_slot": "1"}
    for seed in (1, 2, 3):
        runs[f"ctl-gpus2-s{seed}"] = {"train.seed": seed, "train.gpus": 2, "_slot": "0,1"}
    first = [f"ctl-gpus2-s{s}" for s in (1, 2, 3)] + ["ctl-s1", "ctl-s2", "ctl-seed3-s3"]
    runs = {k: runs[k] for k in first} | {k: v for k, v in runs.items() if k not in first}
    sweep = {
        "base": "bench/gpu_session/base_full_s3.yaml",
        "phases": [
            {
                "name": "levers",
                "slots": ["0,1", "0", "0", "0", "1", "1", "1"],
                "stages": ["split", "train"],
                "runs": runs,
            }
        ],
    }
    (HERE / "plan_levers_s3.json").write_text(json.dumps(sweep, indent=1))

    final = {
        "base": "bench/gpu_session/base_full_s3.yaml",
        "choices": {
            # a lever counts with both seeds finished; the two-GPU and seed-3 runs are not levers
            "win": {
                "best_mean_of": "levers",
                "among": ["ctl", *levers],
                "min_runs": 2,
                "fallback": {},
                "fallback_name": "ctl",
            },
            "ctl-if-not-win": {"best_mean_of": "levers", "among": ["ctl"], "skip_if_same_as": "win"},
        },
        "phases": [
            {
                "name": "final",
                "slots": ["0", "0", "0", "0", "1", "1", "1", "1"],
                "from": "win",
                "runs": {
                    **{f"win-s{s}": {"train.seed": s, "_slot": "0"} for s in (1, 2, 3)},
                    **{
                        f"win-fp32-s{s}": {"train.seed": s, "model.compute_dtype": "fp32", "_slot": "1"}
                        for s in (1, 2, 3)
                    },
                    "ctl-s2": {"train.seed": 2, "_from": "ctl-if-not-win", "_slot": "0"},
                },
            }
        ],
    }
    (HERE / "plan_final_s3.json").write_text(json.dumps(final, indent=1))


if __name__ == "__main__":
    main()
