#!/usr/bin/env python3
"""Session 5: the three-seed soup against its members, block by block over disjoint validation sets.

    python3 bench/gpu_session/soups_s5.py --work /tmp/runs --out /tmp/soups5     # after plan_blocks_s5.json

For each validation block b (runs blocks/ctl-b<b>-s1..s3): the soup of the three adapters (bench/adapter_soup.py),
scored on block b's validation pairs and on test (reported, never used to choose). The decision figure is the
soup's validation minus its members' mean, paired by block, with a 95% t interval over the blocks. The members'
figure is each run's best validation, picked among its checkpoints on the same pairs, so it leans high: a soup that
comes out ahead does so against that lean.
"""

import argparse
import json
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from scipy import stats
from soups_s4 import ROOT, read, score

SEEDS = (1, 2, 3)


def paired(differences: list[float]) -> dict:
    """Mean of the per-block differences with a 95% t interval (None with fewer than two blocks)."""
    mean = statistics.mean(differences)
    if len(differences) < 2:
        return {"mean": round(mean, 4), "ci95": None, "blocks": len(differences)}
    half = float(stats.t.ppf(0.975, len(differences) - 1)) * statistics.stdev(differences) / len(differences) ** 0.5
    return {"mean": round(mean, 4), "ci95": [round(mean - half, 4), round(mean + half, 4)], "blocks": len(differences)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default="/tmp/runs", type=Path)
    ap.add_argument("--out", default="/tmp/soups5", type=Path)
    ap.add_argument("--blocks", type=int, default=5)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results, jobs = {}, []
    for b in range(args.blocks):
        folders = [args.work / f"blocks__ctl-b{b}-s{s}" for s in SEEDS]
        entry = results[f"b{b}"] = {
            "members": [f.name for f in folders],
            "member_val_accuracy": [read(f / "metrics" / "train.json", "val_acc") for f in folders],
        }
        if any(v is None for v in entry["member_val_accuracy"]):
            entry["error"] = "a member did not finish"
            continue
        out = args.out / f"b{b}"
        made = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "adapter_soup.py"), "--adapters",
             *[str(f / "models" / "adapter") for f in folders], "--out", str(out / "adapter")],
            capture_output=True, text=True,
        )  # fmt: skip
        if made.returncode:
            entry["error"] = made.stdout + made.stderr
            continue
        jobs += [(f"b{b}", split, folders[0], out / "adapter", out, str(b % 2)) for split in ("val", "test")]
    with ThreadPoolExecutor(8) as pool:
        for name, split, r in pool.map(lambda j: (j[0], j[1], score(j[2], j[3], j[1], j[4], j[5])), jobs):
            results[name][split] = r
    diffs = []
    for name, e in results.items():
        e["member_val_mean"] = round(statistics.mean(e["member_val_accuracy"]), 4) if "error" not in e else None
        soup_val = e.get("val", {}).get("accuracy")
        if soup_val is not None:
            e["soup_minus_members_val"] = round(soup_val - e["member_val_mean"], 4)
            diffs.append(e["soup_minus_members_val"])
        print(f"{name}: soup val {soup_val} (members {e['member_val_mean']}) test {e.get('test', {}).get('accuracy')}")
    summary = {"blocks": results, "soup_minus_members_val": paired(diffs) if diffs else None}
    print("soup minus members, validation, paired by block:", summary["soup_minus_members_val"])
    (args.out / "results.json").write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
