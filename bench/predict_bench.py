#!/usr/bin/env python3
"""What a user of `scripts/predict.py --stream` waits for, measured from outside the process.

    python bench/predict_bench.py --pairs data/split/test.jsonl -n 100 --out bench/results/predict_bench.json

Cold start (median of --repeat): from spawning the process (interpreter start and imports included) to
its "model ready" line.
Latency: one pair written to stdin, then the wait for its answer line, pair after pair. The answers are
compared with the finetuned evaluation's predictions (batches of 32) for label agreement.
"""

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from nli.core import files
from nli.core.labels import LABELS


def session(rows: list[dict], extra: list[str]) -> tuple[float, list[float], list[dict]]:
    """One cold start, then the pairs one at a time; seconds to ready, seconds per pair, the answers."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "scripts/predict.py", "--stream", *extra],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    for line in proc.stderr:
        if line.startswith("model ready"):
            break
    cold = time.perf_counter() - start
    latencies, answers = [], []
    for row in rows:
        sent = time.perf_counter()
        proc.stdin.write(json.dumps({"premise": row["premise"], "hypothesis": row["hypothesis"]}) + "\n")
        proc.stdin.flush()
        answers.append(json.loads(proc.stdout.readline()))
        latencies.append(time.perf_counter() - sent)
    proc.stdin.close()
    proc.wait()
    return cold, latencies, answers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", default="data/split/test.jsonl")
    ap.add_argument("--evaluated", default="outputs/predictions/finetuned.csv")
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3, help="cold starts (the pairs are split over them)")
    ap.add_argument("--unmerged", action="store_true", help="predict --stream --unmerged: base and adapter kept apart")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    rows = [json.loads(line) for line in Path(args.pairs).read_text().splitlines()[: args.n]]

    colds, latencies, answers = [], [], []
    for part in np.array_split(np.arange(len(rows)), args.repeat):
        cold, lat, ans = session([rows[i] for i in part], ["--unmerged"] if args.unmerged else [])
        colds.append(cold)
        latencies += lat
        answers += ans

    evaluated = {}
    if Path(args.evaluated).exists():
        with open(args.evaluated, newline="") as f:
            evaluated = {r["id"]: r for r in csv.DictReader(f)}
    same = [evaluated[r["id"]]["predicted"] == a["predicted"] for r, a in zip(rows, answers) if r["id"] in evaluated]
    shift = [
        abs(float(evaluated[r["id"]][f"p_{n}"]) - a[f"p_{n}"])
        for r, a in zip(rows, answers)
        if r["id"] in evaluated
        for n in LABELS
    ]
    ms = 1000 * np.array(latencies)
    result = {
        "mode": "unmerged" if args.unmerged else "merged",
        "cold_start_to_model_ready_s_median": round(float(np.median(colds)), 2),
        "cold_start_to_model_ready_s_all": [round(c, 2) for c in colds],
        "pairs": len(rows),
        "latency_ms_median": round(float(np.median(ms)), 1),
        "latency_ms_p90": round(float(np.percentile(ms, 90)), 1),
        "latency_ms_max": round(float(ms.max()), 1),
        "label_agreement_with_evaluate": round(float(np.mean(same)), 4) if same else None,
        "max_prob_diff_vs_evaluate": round(float(max(shift)), 5) if shift else None,
    }
    print("| measure | value |\n|---|---|")
    for k, v in result.items():
        print(f"| {k} | {v} |")
    if args.out:
        files.write_json(args.out, result)


if __name__ == "__main__":
    main()
