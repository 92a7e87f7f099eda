#!/usr/bin/env python3
"""Session 5: the three-seed soup against its members, block by block over disjoint validation sets.

    python3 bench/gpu_session/soups_s5.py --work /tmp/runs --out /tmp/soups5     # after plan_blocks_s5.json

For each validation block b (runs blocks/ctl-b<b>-s1..s3): the soup of the three adapters (bench/adapter_soup.py),
scored on block b's validation pairs and on test (reported, never used to choose). The decision figure is the
soup's validation minus its members' mean, paired by block, with a 95% t interval over the blocks. The members'
figure is each run's best validation, picked among its checkpoints on the same pairs, so it leans high: a soup that
comes out ahead does so against that lean.

Then the cross-fit soups, scored on test only (every validation pair is some member's training data): for each
training seed, the soup of blocks 0-4 (five adapters, each trained on a different 9,340 pairs and each checkpoint
picked on its own held-out block, so together they have seen the whole pool), and the soup of all fifteen. Every
member is scored on test too, so the soups' test figures stand beside single runs'.
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
    ci = stats.ttest_1samp(differences, 0.0).confidence_interval(0.95)
    bounds = [round(float(ci.low), 4), round(float(ci.high), 4)]
    return {"mean": round(mean, 4), "ci95": bounds, "blocks": len(differences)}


def soup(folders: list[Path], out: Path, entry: dict) -> bool:
    """Soup the adapters in ``folders`` into out/adapter (bench/adapter_soup.py); False with entry["error"] if not."""
    made = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "adapter_soup.py"), "--adapters",
         *[str(f / "models" / "adapter") for f in folders], "--out", str(out / "adapter")],
        capture_output=True, text=True,
    )  # fmt: skip
    if made.returncode:
        entry["error"] = made.stdout + made.stderr
    return not made.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default="/tmp/runs", type=Path)
    ap.add_argument("--out", default="/tmp/soups5", type=Path)
    ap.add_argument("--blocks", type=int, default=5)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    runs = {(b, s): args.work / f"blocks__ctl-b{b}-s{s}" for b in range(args.blocks) for s in SEEDS}
    done = {k: f for k, f in runs.items() if (f / "models" / "adapter" / "adapter_model.safetensors").is_file()}
    blocks, members, cross, jobs = {}, {}, {}, []  # jobs: (table, key, split, run folder, adapter, out, gpu)
    for b in range(args.blocks):
        folders = [runs[b, s] for s in SEEDS]
        entry = blocks[f"b{b}"] = {
            "members": [f.name for f in folders],
            "member_val_accuracy": [read(f / "metrics" / "train.json", "val_acc") for f in folders],
        }
        if any((b, s) not in done for s in SEEDS):
            entry["error"] = "a member did not finish"
            continue
        entry["member_val_mean"] = round(statistics.mean(entry["member_val_accuracy"]), 4)
        out = args.out / f"b{b}"
        if soup(folders, out, entry):
            for split in ("val", "test"):
                jobs.append((blocks, f"b{b}", split, folders[0], out / "adapter", out, str(b % 2)))
    for i, f in enumerate(done.values()):
        members[f.name] = {}
        jobs.append((members, f.name, "test", f, f / "models" / "adapter", args.out / "members" / f.name, str(i % 2)))
    groups = {f"x-s{s}": [runs[b, s] for b in range(args.blocks)] for s in SEEDS}
    groups[f"all{len(runs)}"] = list(runs.values())
    for i, (name, folders) in enumerate(groups.items()):
        entry = cross[name] = {"members": [f.name for f in folders]}
        if not all(f in done.values() for f in folders):
            entry["error"] = "a member did not finish"
            continue
        out = args.out / name
        if soup(folders, out, entry):
            jobs.append((cross, name, "test", folders[0], out / "adapter", out, str(i % 2)))
    with ThreadPoolExecutor(8) as pool:

        def run(job):
            table, key, split, folder, adapter, out, gpu = job
            return table, key, split, score(folder, adapter, split, out, gpu)

        for table, key, split, r in pool.map(run, jobs):
            table[key][split] = r
    diffs = []
    for name, e in blocks.items():
        soup_val = e.get("val", {}).get("accuracy")
        if soup_val is not None:
            e["soup_minus_members_val"] = round(soup_val - e["member_val_mean"], 4)
            diffs.append(e["soup_minus_members_val"])
        test = e.get("test", {}).get("accuracy")
        print(f"{name}: soup val {soup_val} (members {e.get('member_val_mean')}) test {test} {e.get('error', '')}")
    member_test = [m["test"]["accuracy"] for m in members.values() if m.get("test", {}).get("accuracy") is not None]
    print("members on test:", [m.get("test", {}).get("accuracy") for m in members.values()])
    for name, e in cross.items():
        print(f"{name}: test {e.get('test', {}).get('accuracy')} {e.get('error', '')}")
    summary = {
        "blocks": blocks,
        "soup_minus_members_val": paired(diffs) if diffs else None,
        "members": members,
        "members_test_mean": round(statistics.mean(member_test), 4) if member_test else None,
        "cross_fit_soups": cross,
    }
    print("soup minus members, validation, paired by block:", summary["soup_minus_members_val"])
    print("members' test mean:", summary["members_test_mean"])
    (args.out / "results.json").write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
