"""Stage `stress`: the fine-tuned model under label-preserving perturbations (Naik et al. 2018).

Draws `stress.pairs` test pairs with the top-level seed, scores them clean and under each perturbation in
nli.stress.perturb (tautology, negation distractor, length mismatch, spelling noise) with the evaluate stages'
scoring, and writes
  - metrics/stress.json           clean accuracy; per perturbation accuracy, change, flip rate, McNemar p
  - plots/stress/perturbations.csv accuracy and flip rate per perturbation (perturbation, accuracy, flip_rate)
  - reports/stress.md             the table with intervals, and flipped examples
  - runs/stress.json              run cost (--run-log, not a DVC output)
"""

import argparse
import time

import _checkout  # noqa: F401  (first: this checkout's library, also in a queued experiment's copy)
import numpy as np
import pandas as pd

from nli.core import config, files, records
from nli.core.errors import run_stage
from nli.core.labels import LABELS
from nli.model import metrics, scoring
from nli.stress import analysis, perturb, report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--test", default="data/split/test.jsonl")
    ap.add_argument("--adapter", default="models/adapter", help="PEFT adapter folder ('' for the base model)")
    ap.add_argument("--metrics", default="metrics/stress.json")
    ap.add_argument("--plot", default="plots/stress/perturbations.csv")
    ap.add_argument("--report", default="reports/stress.md")
    ap.add_argument("--run-log", required=True, help="run info and cost (not a DVC metric)")
    args = ap.parse_args()
    start = time.perf_counter()

    params = config.load(args.params, ["model", "prompt", "evaluate", "stress"])
    p_stress, seed = params.stress, params.seed
    test = records.read_split(args.test)
    pairs = perturb.sample(test, p_stress.pairs, seed)
    variants = {name: perturb.perturb(pairs, name, seed) for name in perturb.PERTURBATIONS}

    metrics.reset_peak_memory()
    adapter = args.adapter or None
    classifier = scoring.load_classifier(
        params.model,
        params.prompt,
        batch_size=params.evaluate.batch_size,
        adapter=adapter,
        params_path=args.params,
        merge=params.evaluate.merge_adapter,
    )
    everything = pairs + [pair for rows in variants.values() for pair in rows]  # one scoring pass, length-batched
    logprobs, speed = classifier.score(everything, desc="stress")
    labels = np.array(LABELS)[logprobs.argmax(axis=1)]
    n = len(pairs)
    gold = np.array([LABELS[r["label"]] for r in pairs])
    clean = labels[:n]
    predicted = {name: labels[(k + 1) * n : (k + 2) * n] for k, name in enumerate(variants)}

    results = analysis.paired_results(gold, clean, predicted)
    examples = {
        name: analysis.flipped_examples(pairs, variants[name], gold, clean, predicted[name], p_stress.examples)
        for name in variants
    }
    files.write_json(args.metrics, analysis.metrics(results))
    plot = pd.DataFrame(
        [
            {"perturbation": "clean", "accuracy": round(float(np.mean(clean == gold)), 5), "flip_rate": 0.0},
            *(
                {"perturbation": name, "accuracy": round(r["accuracy_after"], 5), "flip_rate": round(r["flip_rate"], 5)}
                for name, r in results.items()
            ),
        ]
    )
    files.write_text(args.plot, plot.to_csv(index=False, lineterminator="\n"))
    files.write_text(args.report, report.render(results, examples, n, len(test)))
    files.write_run_log(
        args.run_log,
        info={**classifier.loaded.info, "adapter": args.adapter or "none", "pairs": n, "scored": len(everything)},
        cost={**speed, "stage_seconds": round(time.perf_counter() - start, 2), **metrics.peak_memory()},
    )
    print(
        f"stress: {n} pairs, clean accuracy {np.mean(clean == gold):.4f}; "
        + ", ".join(f"{name} {r['accuracy_after']:.4f} (flips {r['flip_rate']:.3f})" for name, r in results.items())
    )


if __name__ == "__main__":
    run_stage(main)
