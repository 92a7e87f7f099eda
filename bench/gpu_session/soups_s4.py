#!/usr/bin/env python3
"""Session 4: soups of training seeds' adapters (bench/adapter_soup.py), each scored on validation and on test
with the evaluate stage, beside their members' figures. Run after plan_a_s4.json's phases, from .device/gpu:

    python3 bench/gpu_session/soups_s4.py --work /tmp/runs --out /tmp/soups

Validation decides (mean of the soups against the mean of their members' best validation); the test figures are
reported, never used for a choice. Note the members' best validation is the best of about eight checkpoints picked
on those same 500 pairs, so it leans high against a soup's single measurement.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOUPS = {
    "ctl3-a": ["levers/ctl-s1", "levers/ctl-s2", "levers/ctl-s3"],
    "ctl3-b": ["seeds/ctl-s4", "seeds/ctl-s5", "seeds/ctl-s6"],
    "ctl3-c": ["seeds/ctl-s7", "seeds/ctl-s8", "seeds/ctl-s9"],
    "ctl2-a": ["levers/ctl-s1", "levers/ctl-s2"],
    "ctl2-b": ["levers/ctl-s3", "seeds/ctl-s4"],
    "ctl2-c": ["seeds/ctl-s5", "seeds/ctl-s6"],
    "swap3": ["levers/swap-s1", "levers/swap-s2", "levers/swap-s3"],
}


def read(path: Path, key: str):
    return json.loads(path.read_text()).get(key) if path.is_file() else None


def score(folder: Path, adapter: Path, split: str, out: Path, gpu: str) -> dict:
    t = time.perf_counter()
    argv = [
        sys.executable,
        "stages/evaluate.py",
        "--params",
        "params.yaml",
        "--test",
        f"data/split/{split}.jsonl",
        "--adapter",
        str(adapter),
        "--predictions",
        str(out / f"{split}.csv"),
        "--confusion",
        str(out / f"{split}-confusion.csv"),
        "--metrics",
        str(out / f"{split}.json"),
        "--run-log",
        str(out / f"{split}-run.json"),
    ]
    p = subprocess.run(
        argv, cwd=folder, env={**os.environ, "CUDA_VISIBLE_DEVICES": gpu}, capture_output=True, text=True
    )
    return {
        "exit_code": p.returncode,
        "accuracy": read(out / f"{split}.json", "ft_acc"),
        "seconds": round(time.perf_counter() - t, 1),
        "log_tail": p.stderr.splitlines()[-5:] if p.returncode else [],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--work", default="/tmp/runs", type=Path)
    ap.add_argument("--out", default="/tmp/soups", type=Path)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    jobs, results = [], {}
    for i, (name, members) in enumerate(SOUPS.items()):
        folders = [args.work / m.replace("/", "__") for m in members]
        missing = [str(f) for f in folders if not (f / "models" / "adapter" / "adapter_model.safetensors").is_file()]
        entry = results[name] = {
            "members": members,
            "member_val_accuracy": [read(f / "metrics" / "train.json", "val_acc") for f in folders],
            "member_test_accuracy": [read(f / "metrics" / "finetuned.json", "ft_acc") for f in folders],
        }
        if missing:
            entry["error"] = f"no adapter in {missing}"
            continue
        out = args.out / name
        made = subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "adapter_soup.py"),
                "--adapters",
                *[str(f / "models" / "adapter") for f in folders],
                "--out",
                str(out / "adapter"),
            ],
            capture_output=True,
            text=True,
        )
        if made.returncode:
            entry["error"] = made.stdout + made.stderr
            continue
        for split in ("val", "test"):
            jobs.append((name, split, folders[0], out / "adapter", out, str(i % 2)))
    with ThreadPoolExecutor(8) as pool:
        done = pool.map(lambda j: (j[0], j[1], score(j[2], j[3], j[1], j[4], j[5])), jobs)
        for name, split, r in done:
            results[name][split] = r
    for name, e in results.items():
        vals = [v for v in e["member_val_accuracy"] if v is not None]
        e["member_val_mean"] = round(sum(vals) / len(vals), 4) if vals else None
        tests = [v for v in e["member_test_accuracy"] if v is not None]
        e["member_test_mean"] = round(sum(tests) / len(tests), 4) if tests else None
        print(
            f"{name}: val {e.get('val', {}).get('accuracy')} (members {e['member_val_mean']}) "
            f"test {e.get('test', {}).get('accuracy')} (members {e['member_test_mean']}) {e.get('error', '')}"
        )
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
