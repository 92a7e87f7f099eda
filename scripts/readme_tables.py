#!/usr/bin/env python3
"""Fill the README's generated tables from the committed result files, so its numbers cannot drift.

    python scripts/readme_tables.py            # rewrite the blocks between <!-- generated:NAME --> markers
    python scripts/readme_tables.py --check    # exit 1 if README.md is not what the result files give

Sources: metrics/*.json and runs/*.json (the committed `dvc repro` of the default profile),
bench/results/report.json (the figures the reproduced report published) and bench/results/gpu/summary.json
(the GPU runs, docs/gpu.md).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from nli.core import files
from nli.reporting.markdown import table

ROOT = Path(__file__).resolve().parents[1]
MISSING = "–"


def read(path: str) -> dict:
    file = ROOT / path
    return json.loads(file.read_text(encoding="utf-8")) if file.is_file() else {}


def pct(value, signed: bool = False) -> str:
    if not isinstance(value, (int, float)):
        return MISSING
    return f"{100 * value:+.1f} pp" if signed else f"{100 * value:.1f}%"


def number(value, fmt: str) -> str:
    return format(value, fmt) if isinstance(value, (int, float)) else MISSING


def results_table() -> str:
    report, gpu = read("bench/results/report.json"), read("bench/results/gpu/summary.json")
    base, ft, cmp_, stress = (read(f"metrics/{n}.json") for n in ("baseline", "finetuned", "compare", "stress"))
    split, train = read("runs/split.json"), read("runs/train.json")
    sizes = split.get("info", {}).get("sizes") or read("metrics/data.json")
    full = gpu.get("embedded_full", {})
    seeds = [r for r in full.get("runs", []) if r.get("test_accuracy") is not None]  # a run that failed has none
    flips = {k: v["flip_rate"] for k, v in stress.items() if isinstance(v, dict) and "flip_rate" in v}
    worst = max(flips, key=flips.get) if flips else None
    minutes = train.get("cost", {}).get("train_seconds")
    rows = [
        [
            "accuracy before → after",
            f"{report.get('accuracy_before', MISSING)} → {report.get('accuracy_after', MISSING)}",
            f"{pct(base.get('base_acc'))} → **{pct(ft.get('ft_acc'))}**",
            f"{pct(seeds[0]['test_accuracy_baseline']) if seeds else MISSING} → "
            f"**{pct(full.get('test_accuracy_mean'))}** (mean of {len(seeds)} seeds, sd "
            f"{number(100 * full['test_accuracy_sd'], '.1f') if 'test_accuracy_sd' in full else MISSING} pp)",
        ],
        [
            "Δ [95% CI], McNemar p",
            MISSING,
            f"{pct(cmp_.get('delta'), True)} [{pct(cmp_.get('delta_lo'), True)}, {pct(cmp_.get('delta_hi'), True)}], "
            f"p = {number(cmp_.get('mcnemar_p'), '.1e')}",
            MISSING,
        ],
        [
            "test set",
            "SNLI test",
            f"{sizes.get('test', MISSING)}-pair stratified sample of SNLI test",
            f"all {seeds[0]['n_test']:,} SNLI test pairs" if seeds else MISSING,
        ],
        [
            "training pairs",
            report.get("train_pairs", MISSING),
            f"{sizes.get('train', MISSING):,} (SNLI validation pool)" if sizes.get("train") else MISSING,
            f"{seeds[0]['n_train']:,} (SNLI validation pool)" if seeds else MISSING,
        ],
        [
            "training time",
            report.get("training_time", MISSING),
            f"{number(minutes / 60, '.1f')} min on 2 CPU cores" if minutes else MISSING,
            # the train stage of runs alone on the GPU (the seeds' runs shared it)
            f"{number(full['train_stage_seconds_alone'], '.0f')} s (train stage, alone) on one {gpu.get('card', 'GPU')}"
            if full.get("train_stage_seconds_alone")
            else MISSING,
        ],
        [
            "trainable params",
            report.get("trainable_params", MISSING),
            number(train.get("info", {}).get("trainable_params"), ",d"),
            "same model and LoRA shape",
        ],
        [
            "hard subset (hypothesis-only baseline wrong)",
            MISSING,
            f"{pct(cmp_.get('hard_acc_base'))} → {pct(cmp_.get('hard_acc_ft'))} "
            f"(hypothesis-only baseline {pct(cmp_.get('hyp_only_acc'))} overall)",
            MISSING,
        ],
        [
            "stress tests: largest flip rate",
            MISSING,
            f"{worst}: {pct(flips[worst])}" if worst else MISSING,
            MISSING,
        ],
        [
            "calibration: ECE raw → temperature-scaled",
            MISSING,
            f"{number(cmp_.get('ece_ft_raw'), '.3f')} → {number(cmp_.get('ece_ft'), '.3f')}",
            MISSING,
        ],
    ]
    header = ["", "report (Phi-2 2.7B, as published)", "ours: CPU default (`make repro`)", "ours: GPU `embedded-full`"]
    return table(header, rows)


def gpu_table() -> str:
    gpu = read("bench/results/gpu/summary.json")
    rows = []
    latest = gpu.get("phi2_shapes_session8", {})
    shown = latest.get("processes", {}).get("target_rows") or gpu.get("phi2_shapes", {})
    for row in shown.get("rows", []):
        rows.append(
            [
                f"`{row['key']}`" if latest else row["config"],
                number(row.get("train_examples_per_second"), ".1f"),
                f"{number(row.get('train_speedup_vs_report_config'), '.1f')}×",
                number(row.get("eval_examples_per_second"), ".0f"),
                number(row.get("peak_allocated_gb"), ".2f"),
            ]
        )
    two = gpu.get("embedded_two_gpus", {})
    speedup = gpu.get("phi2_shapes", {}).get("two_gpus", {}).get("speedup")
    header = ["Phi-2 shapes, one H200", "train ex/s", "× report", "eval ex/s", "peak GB (alone)"]
    lines = [table(header, rows)]
    if latest:
        best, merged, low = (
            latest["best_train_within_24gb"],
            latest["eval_merged_examples_per_second"],
            latest["low_mem_best"],
        )
        finite = all(r["all_finite"] for p in latest["processes"].values() for r in p["rows"])
        lines.append(
            f"\n`bench/gpu_bench.py` configs, the last of {len(best)} processes. Best training ≤ 24 GB in each: "
            + ", ".join(f"{b['x_report']:.2f}× (`{b['row']}`)" for b in best.values())
            + "; low-mem ≤ 2.5 GB "
            + ", ".join(f"{v['train_speedup_vs_report_config']:.2f}×" for v in low.values())
            + "; merged scoring "
            + ", ".join(f"{v:,.0f}" for v in merged.values())
            + f" ex/s; {'never' if finite else 'some'} NaN. Method and shortfalls: docs/gpu.md."
        )
    if speedup or two:
        lines.append(
            f"\nTwo GPUs (`train.gpus: 2`): Phi-2 shapes {number(speedup, '.2f')}× one GPU's training throughput; "
            f"embedded-full validation {number(two.get('two_gpus_val_mean'), '.3f')} against "
            f"{number(two.get('one_gpu_val_mean'), '.3f')} on one GPU (batch {number(two.get('global_batch'), 'd')}, "
            f"{len(two.get('seeds', []))} seeds)."
        )
    full = gpu.get("embedded_full", {})
    if full.get("pipeline_seconds_alone"):
        lines.append(
            f"\nEmbedded full, every stage alone on one {gpu.get('card', 'GPU')}: "
            f"{number(full['pipeline_seconds_alone'], '.0f')} s (train stage "
            f"{number(full.get('train_stage_seconds_alone'), '.0f')} s); test accuracy "
            f"{pct(full.get('test_accuracy_mean'))} (mean of {len(full.get('seeds', []))} seeds)."
        )
    return "\n".join(lines)


GENERATORS = {"results": results_table, "gpu": gpu_table}


def render(text: str) -> str:
    for name, make in GENERATORS.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- /generated -->)", re.S)
        text = pattern.sub(lambda m, make=make: m.group(1) + make().rstrip("\n") + "\n" + m.group(2), text)
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    ap.add_argument("--check", action="store_true", help="exit 1 if the README differs from the result files")
    args = ap.parse_args()
    text = args.readme.read_text(encoding="utf-8")
    new = render(text)
    if args.check:
        if new != text:
            print(f"{args.readme}: generated tables are stale; run python scripts/readme_tables.py", file=sys.stderr)
            sys.exit(1)
        return
    files.write_text(args.readme, new)


if __name__ == "__main__":
    main()
