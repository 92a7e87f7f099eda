#!/usr/bin/env python3
"""Run the pipeline for several composed params files in turn and tabulate their metrics.

    python bench/profile_runs.py --out OUT name=params-file[:stage,stage...] ...

For a GPU box without DVC: each run copies its params file to params.yaml, runs the stages through
scripts/run_stages.py (no dvclive), and appends its metrics to OUT/results.json as soon as it ends,
so a run cut short still reports what finished. Prints one table at the end.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = [
    ("baseline", "accuracy"),
    ("finetuned", "accuracy"),
    ("finetuned", "n"),
    ("train", "train_seconds"),
    ("train", "examples_per_second"),
    ("train", "best_val_accuracy"),
    ("train", "trainable_params"),
    ("finetuned", "examples_per_second"),
    ("compare", "mcnemar_p"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("runs", nargs="+")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for spec in args.runs:
        name, _, rest = spec.partition("=")
        params, _, stages = rest.partition(":")
        shutil.copy(params, ROOT / "params.yaml")
        for old in (ROOT / "metrics").glob("*.json"):
            old.unlink()
        start = time.perf_counter()
        cmd = [sys.executable, str(ROOT / "scripts/run_stages.py"), "--no-live", *filter(None, stages.split(","))]
        code = subprocess.run(cmd, cwd=ROOT).returncode
        results[name] = {
            "exit_code": code,
            "wall_seconds": round(time.perf_counter() - start, 1),
            **{p.stem: json.loads(p.read_text()) for p in (ROOT / "metrics").glob("*.json")},
        }
        (out / "results.json").write_text(json.dumps(results, indent=1))
        with tarfile.open(out / f"{name}.tar.gz", "w:gz") as tar:
            for folder in ("metrics", "reports", "plots"):
                if (ROOT / folder).exists():
                    tar.add(ROOT / folder, arcname=folder)
    header = ["run", "exit", "wall_s"] + [f"{a}.{b}" for a, b in COLUMNS]
    print(" | ".join(header))
    for name, r in results.items():
        print(
            " | ".join(
                [name, str(r["exit_code"]), str(r["wall_seconds"])] + [str(r.get(a, {}).get(b, "")) for a, b in COLUMNS]
            )
        )


if __name__ == "__main__":
    main()
