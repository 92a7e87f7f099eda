"""Stage `compare`: where does fine-tuning fix, keep or break the baseline's answers?

Reads the baseline's and the fine-tuned model's test predictions and the training pool (for the hypothesis-only
baseline and the PMI cue words) and writes
  - metrics/compare.json            accuracy change with bootstrap CI, McNemar p, fixed/broken, calibration,
                                    hypothesis-only accuracy and the hard/easy subsets, slices significant after BH
  - reports/compare.md              the same for people, plus per-label, slices, reference rows and examples
  - plots/compare/slices.csv        before/after accuracy per non-empty slice (slice, n, stage, accuracy)
  - plots/compare/calibration.csv   reliability-diagram bins (model, bin, n, confidence, accuracy)
  - plots/compare/risk_coverage.csv the fine-tuned model's accuracy when abstaining below a confidence
  - runs/compare.json               run cost (seconds; --run-log, not a DVC output: it changes every run)
Params: the compare section and the top-level seed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import _checkout  # noqa: F401  (first: this checkout's library, also in a queued experiment's copy)
import pandas as pd

from nli.compare import analysis, predictions, report
from nli.core import config, files, records
from nli.core.errors import ArgumentParser, run_stage
from nli.core.labels import LABELS


def parse_args() -> argparse.Namespace:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, default=Path("outputs/predictions/baseline.csv"))
    parser.add_argument("--finetuned", type=Path, default=Path("outputs/predictions/finetuned.csv"))
    parser.add_argument("--train", type=Path, default=Path("data/split/train.jsonl"), help="the training pool")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--metrics", type=Path, default=Path("metrics/compare.json"))
    parser.add_argument("--report", type=Path, default=Path("reports/compare.md"))
    parser.add_argument("--slices-plot", type=Path, default=Path("plots/compare/slices.csv"))
    parser.add_argument("--calibration-plot", type=Path, default=Path("plots/compare/calibration.csv"))
    parser.add_argument("--risk-coverage-plot", type=Path, default=Path("plots/compare/risk_coverage.csv"))
    parser.add_argument("--stress", type=Path, default=None, help="metrics/stress.json: summarised in the report")
    parser.add_argument("--run-log", type=Path, default=None, help="run cost file (not a DVC output)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    start = time.perf_counter()
    params = config.load(args.params, ["compare"])

    baseline = predictions.load_predictions(args.baseline)
    finetuned = predictions.load_predictions(args.finetuned)
    predictions.check_paired(baseline, finetuned, args.baseline, args.finetuned)
    train = pd.DataFrame(
        [{"hypothesis": r["hypothesis"], "gold": LABELS[r["label"]]} for r in records.read_split(args.train)]
    )
    p = params.compare

    result = analysis.compare_predictions(
        baseline,
        finetuned,
        examples_per_group=p.examples_per_group,
        bootstrap_samples=p.bootstrap_samples,
        seed=params.seed,
        train=train,
        cue_words_per_label=p.cue_words_per_label,
        cue_min_count=p.cue_min_count,
    )

    files.write_json(args.metrics, analysis.metrics_dict(result))
    stress = predictions.load_stress(args.stress) if args.stress else None
    files.write_text(args.report, report.render(result, stress))
    files.write_text(args.slices_plot, analysis.slice_plot_rows(result).to_csv(index=False, lineterminator="\n"))
    for path, rows in (
        (args.calibration_plot, analysis.calibration_plot_rows(result)),
        (args.risk_coverage_plot, analysis.risk_coverage_plot_rows(result)),
    ):
        files.write_text(path, rows.to_csv(index=False, lineterminator="\n"))

    if args.run_log:
        seconds = round(time.perf_counter() - start, 2)
        files.write_run_log(args.run_log, info={"examples": str(result.n)}, cost={"seconds": seconds})
    o, cal = result.overall, result.calibration
    low, high = o["delta_ci95"]
    print(
        f"compare: n={result.n} accuracy {o['accuracy_before']:.4f} -> {o['accuracy_after']:.4f} "
        f"(delta {o['delta']:+.4f}, 95% CI [{low:+.4f}, {high:+.4f}], McNemar p={result.mcnemar_p:.3g}); "
        f"ECE {cal['baseline']['ece']:.3f} -> {cal['finetuned']['ece']:.3f}"
        + (
            f"; hypothesis-only {result.shortcuts.accuracy:.4f}, fine-tuned on its hard subset "
            f"{result.shortcuts.subsets['hard']['accuracy_after'] or 0:.4f}"
            if result.shortcuts
            else ""
        )
    )


if __name__ == "__main__":
    run_stage(main)
