"""Stage `compare`: where does fine-tuning fix, keep or break the baseline's answers?

Reads the baseline's and the fine-tuned model's test predictions and writes
  - metrics/compare.json          accuracy change with bootstrap CI, McNemar p, fixed/broken, calibration
  - reports/compare.md            the same for people, plus per-label, slices, reference rows and examples
  - plots/compare/slices.csv      before/after accuracy per non-empty slice (slice, n, stage, accuracy)
  - plots/compare/calibration.csv reliability-diagram bins (model, bin, n, confidence, accuracy)
  - runs/compare.json             run cost (seconds; --run-log, not a DVC output: it changes every run)
Params: compare.examples_per_group, compare.bootstrap_samples and the top-level seed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from nli.compare import analysis, predictions, report
from nli.core import config, files
from nli.core.errors import ArgumentParser, run_stage


def parse_args() -> argparse.Namespace:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, default=Path("outputs/predictions/baseline.csv"))
    parser.add_argument("--finetuned", type=Path, default=Path("outputs/predictions/finetuned.csv"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--metrics", type=Path, default=Path("metrics/compare.json"))
    parser.add_argument("--report", type=Path, default=Path("reports/compare.md"))
    parser.add_argument("--slices-plot", type=Path, default=Path("plots/compare/slices.csv"))
    parser.add_argument("--calibration-plot", type=Path, default=Path("plots/compare/calibration.csv"))
    parser.add_argument("--run-log", type=Path, default=None, help="run cost file (not a DVC output)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    start = time.perf_counter()
    params = config.load(args.params, ["compare"])

    baseline = predictions.load_predictions(args.baseline)
    finetuned = predictions.load_predictions(args.finetuned)
    predictions.check_paired(baseline, finetuned, args.baseline, args.finetuned)

    result = analysis.compare_predictions(
        baseline,
        finetuned,
        examples_per_group=params["compare"]["examples_per_group"],
        bootstrap_samples=params["compare"]["bootstrap_samples"],
        seed=params["seed"],
    )

    files.write_json(args.metrics, analysis.metrics_dict(result))
    files.write_text(args.report, report.render(result))
    files.write_text(args.slices_plot, analysis.slice_plot_rows(result).to_csv(index=False, lineterminator="\n"))
    files.write_text(
        args.calibration_plot, analysis.calibration_plot_rows(result).to_csv(index=False, lineterminator="\n")
    )

    if args.run_log:
        seconds = round(time.perf_counter() - start, 2)
        files.write_run_log(args.run_log, info={"examples": str(result.n)}, cost={"seconds": seconds})
    o, cal = result.overall, result.calibration
    low, high = o["delta_ci95"]
    print(
        f"compare: n={result.n} accuracy {o['accuracy_before']:.4f} -> {o['accuracy_after']:.4f} "
        f"(delta {o['delta']:+.4f}, 95% CI [{low:+.4f}, {high:+.4f}], McNemar p={result.mcnemar_p:.3g}); "
        f"ECE {cal['baseline']['ece']:.3f} -> {cal['finetuned']['ece']:.3f}"
    )


if __name__ == "__main__":
    run_stage(main)
