"""Stage `compare`: where does fine-tuning fix, keep or break the baseline's answers?

Reads the baseline's and the fine-tuned model's test predictions and writes
  - metrics/compare.json   accuracy change with bootstrap CI, McNemar p, 2x2 counts, per-label and per-slice numbers
  - reports/compare.md     the same for people, plus prediction tables and example failures
  - plots/compare/slices.csv   before/after accuracy per slice (slice, n, stage, accuracy)
Params: compare.examples_per_group, compare.bootstrap_samples and the top-level seed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nli import compare, config
from nli.errors import run_stage


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, default=Path("outputs/predictions/baseline.csv"))
    parser.add_argument("--finetuned", type=Path, default=Path("outputs/predictions/finetuned.csv"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--metrics", type=Path, default=Path("metrics/compare.json"))
    parser.add_argument("--report", type=Path, default=Path("reports/compare.md"))
    parser.add_argument("--plots-dir", type=Path, default=Path("plots/compare"))
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    params = config.load(args.params, ["compare"])

    baseline = compare.load_predictions(args.baseline)
    finetuned = compare.load_predictions(args.finetuned)
    compare.check_paired(baseline, finetuned, args.baseline, args.finetuned)

    result = compare.compare_predictions(
        baseline,
        finetuned,
        examples_per_group=params["compare"]["examples_per_group"],
        bootstrap_samples=params["compare"]["bootstrap_samples"],
        seed=params["seed"],
    )

    compare.write_json_atomic(args.metrics, compare.metrics_dict(result))
    compare.write_text_atomic(args.report, compare.render_report(result))
    compare.write_csv_atomic(args.plots_dir / "slices.csv", compare.slice_plot_rows(result))

    delta, (low, high) = result.overall["delta"], result.overall["delta_ci95"]
    print(
        f"compare: n={result.n} accuracy {result.overall['accuracy_before']:.4f} -> "
        f"{result.overall['accuracy_after']:.4f} (delta {delta:+.4f}, 95% CI [{low:+.4f}, {high:+.4f}], "
        f"McNemar p={result.mcnemar_p:.3g})"
    )


if __name__ == "__main__":
    run_stage(main)
