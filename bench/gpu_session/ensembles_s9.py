#!/usr/bin/env python3
"""Session 9: logit ensembles of the cross-fit members against their soups and members, and the learning curve
(issue 27). Run after plan_blocks_s9.json and plan_curve_s9.json (make_plans_s9.py has the why and the rule):

    python3 bench/gpu_session/ensembles_s9.py --work /tmp/runs9 --out /tmp/ens9 --results /tmp/s9/*/results.json

Scores, with the evaluate stage (raw log-probabilities, no temperature): every member of blocks 0-4 x seeds 1-3 on
its own validation block and on test; each block's soup of its three seeds on validation and test; the cross-fit
soups on test. A logit ensemble averages its members' log-probabilities of the three labels pair by pair and
predicts the largest; it needs no scoring of its own. The decision figure (rule 1) is on validation only; test
figures are reported, never used to choose. `--results` reads the runs' validation and the learning curves from
bench/pipeline_runs.py's results files; `--analyse-only` recomputes the JSON from the CSVs already written:

    python3 bench/gpu_session/ensembles_s9.py --analyse-only --out DIR_WITH_members_AND_soups --results \\
        bench/results/gpu/embedded_{blocks,curve,curve_steps}_h200_s9.json
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_plans_s9 import BLOCKS, CURVE, SEEDS  # noqa: E402
from plan_base import TRAIN_PAIRS as FULL  # noqa: E402
from soups_s4 import score  # noqa: E402
from soups_s5 import paired, soup  # noqa: E402

LABELS = ("entailment", "neutral", "contradiction")
FIT_FROM = 4671  # half the pairs: the slope near the full size, not the climb out of a few dozen steps
STEPS = 148  # the full run's optimizer steps: ceil(9,342 / 256) x 4 epochs
TARGET = 0.85


@functools.cache  # a member's predictions take part in several ensembles
def read_predictions(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(ids, gold label indices, [n, 3] log-probabilities in LABELS order) of an evaluate stage's predictions."""
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    ids = [r["id"] for r in rows]
    gold = np.array([LABELS.index(r["gold"]) for r in rows])
    logprobs = np.array([[float(r[f"logprob_{label}"]) for label in LABELS] for r in rows])
    return ids, gold, logprobs


def ensemble_accuracy(paths: list[Path], how: str = "logprob") -> float:
    """Accuracy of the members' mean log-probability ("logprob") or mean probability ("prob"), pair by pair."""
    members = [read_predictions(p) for p in paths]
    ids, gold, _ = members[0]
    for other_ids, other_gold, _ in members[1:]:
        if other_ids != ids or not np.array_equal(other_gold, gold):
            raise ValueError(f"{paths}: the members scored different pairs")
    stack = np.stack([m[2] for m in members])
    mean = stack.mean(axis=0) if how == "logprob" else np.exp(stack).mean(axis=0)
    return round(float((mean.argmax(axis=1) == gold).mean()), 4)


def accuracy(path: Path) -> float:
    return ensemble_accuracy([path])


def learning_curve(points: dict[int, list[float]], target: float = TARGET) -> dict:
    """Least-squares line of test accuracy against log2(training pairs) over every run, with the slope's 95% t
    interval; and the pairs that slope (and its bounds) puts at target, counted from the largest size's mean."""
    x = [np.log2(n) for n, accs in points.items() for _ in accs]
    y = [a for accs in points.values() for a in accs]
    fit = stats.linregress(x, y)
    half = float(stats.t.ppf(0.975, len(x) - 2) * fit.stderr)
    largest = max(points)
    top = statistics.mean(points[largest])

    def pairs(slope: float) -> int | None:
        return round(largest * 2 ** ((target - top) / slope)) if slope > 0 else None

    low, high = float(fit.slope) - half, float(fit.slope) + half
    return {
        "fitted_pairs": sorted(points),
        "per_doubling": round(float(fit.slope), 4),
        "per_doubling_ci95": [round(low, 4), round(high, 4)],
        "r2": round(float(fit.rvalue**2), 3),
        "pairs_for_target": pairs(float(fit.slope)),
        "pairs_for_target_ci95": [pairs(high), pairs(low)],  # a steeper slope needs fewer pairs
        "target": target,
    }


def run_metrics(results: list[Path]) -> dict[str, dict]:
    """Every finished run's metrics by its name (phase/run), from bench/pipeline_runs.py's results files."""
    runs = {}
    for path in results:
        for r in json.loads(path.read_text()):
            if r["exit_code"] == 0:
                runs[r["name"]] = r["metrics"]
    return runs


def curve(runs: dict[str, dict], pattern: str, full: list[float]) -> dict:
    """Test accuracy by training pairs for the runs named pattern.format(n=pairs, s=seed), with the full size's
    runs; the line is fitted from FIT_FROM pairs up, where the curve is no longer climbing out of too few steps."""
    points = {n: [runs.get(pattern.format(n=n, s=s), {}).get("finetuned", {}).get("ft_acc") for s in SEEDS]
              for n in CURVE}  # fmt: skip
    points[FULL] = full
    points = {n: [a for a in accs if a is not None] for n, accs in points.items()}
    points = {n: accs for n, accs in sorted(points.items()) if accs}
    fitted = {n: accs for n, accs in points.items() if n >= FIT_FROM}
    return {
        "test_accuracy_by_pairs": {str(n): accs for n, accs in points.items()},
        "mean_by_pairs": {str(n): round(statistics.mean(accs), 4) for n, accs in points.items()},
        **(learning_curve(fitted) if len(fitted) > 1 else {}),
    }


def score_all(work: Path, out: Path, gpus: int) -> None:
    runs = {(b, s): work / f"blocks__ctl-b{b}-s{s}" for b in BLOCKS for s in SEEDS}
    done = {k: f for k, f in runs.items() if (f / "models" / "adapter" / "adapter_model.safetensors").is_file()}
    jobs = []  # (run folder, adapter, split, out folder)
    for f in done.values():
        jobs += [(f, f / "models" / "adapter", split, out / "members" / f.name) for split in ("val", "test")]
    for b in BLOCKS:
        if all((b, s) in done for s in SEEDS):
            entry = {}
            if soup([runs[b, s] for s in SEEDS], out / "soups" / f"b{b}", entry):
                jobs += [(runs[b, 1], out / "soups" / f"b{b}" / "adapter", split, out / "soups" / f"b{b}")
                         for split in ("val", "test")]  # fmt: skip
            else:
                print(f"soup b{b}: {entry['error']}")
    groups = {f"x-s{s}": [runs[b, s] for b in BLOCKS] for s in SEEDS}
    groups["all15"] = list(runs.values())
    for name, folders in groups.items():
        entry = {}
        if all(f in done.values() for f in folders) and soup(folders, out / "soups" / name, entry):
            jobs.append((folders[0], out / "soups" / name / "adapter", "test", out / "soups" / name))
    with ThreadPoolExecutor(4 * gpus) as pool:
        logs = list(pool.map(lambda ij: score(ij[1][0], ij[1][1], ij[1][2], ij[1][3], str(ij[0] % gpus)),
                             enumerate(jobs)))  # fmt: skip
    for job, log in zip(jobs, logs, strict=True):
        if log["exit_code"]:
            print(f"scoring {job[1]} on {job[2]} failed: {log['log_tail']}")


def analyse(out: Path, results: list[Path]) -> dict:
    def csv_of(folder: Path, split: str) -> Path | None:
        path = folder / f"{split}.csv"
        return path if path.is_file() else None

    runs = run_metrics(results)
    member = {(b, s): out / "members" / f"blocks__ctl-b{b}-s{s}" for b in BLOCKS for s in SEEDS}
    members = {}
    for folder in member.values():
        val, test = csv_of(folder, "val"), csv_of(folder, "test")
        members[folder.name] = {
            "val_accuracy": accuracy(val) if val else None,
            "val_accuracy_train_stage": runs.get(folder.name.replace("__", "/"), {}).get("train", {}).get("val_acc"),
            "test_accuracy": accuracy(test) if test else None,
        }
    blocks, diffs_ens, diffs_soup = {}, [], []
    for b in BLOCKS:
        names = [f"blocks__ctl-b{b}-s{s}" for s in SEEDS]
        vals = [members[n]["val_accuracy"] for n in names]
        entry = blocks[f"b{b}"] = {"member_val": vals, "member_test": [members[n]["test_accuracy"] for n in names]}
        paths = {split: [csv_of(member[b, s], split) for s in SEEDS] for split in ("val", "test")}
        if None in vals or None in paths["test"]:
            entry["error"] = "a member is missing"
            continue
        for split in ("val", "test"):
            entry[f"ensemble_{split}"] = ensemble_accuracy(paths[split])
            entry[f"ensemble_prob_{split}"] = ensemble_accuracy(paths[split], "prob")
            soup_csv = csv_of(out / "soups" / f"b{b}", split)
            entry[f"soup_{split}"] = accuracy(soup_csv) if soup_csv else None
        diffs_ens.append(entry["ensemble_val"] - statistics.mean(vals))
        if entry["soup_val"] is not None:
            diffs_soup.append(entry["soup_val"] - statistics.mean(vals))
    cross = {}
    groups = {f"x-s{s}": [member[b, s] for b in BLOCKS] for s in SEEDS}
    groups["all15"] = list(member.values())
    for name, folders in groups.items():
        paths = [csv_of(f, "test") for f in folders]
        soup_csv = csv_of(out / "soups" / name, "test")
        cross[name] = {
            "ensemble_test": ensemble_accuracy(paths) if None not in paths else None,
            "ensemble_prob_test": ensemble_accuracy(paths, "prob") if None not in paths else None,
            "soup_test": accuracy(soup_csv) if soup_csv else None,
            "member_test_mean": round(statistics.mean(members[f.name]["test_accuracy"] for f in folders), 4)
            if None not in paths else None,
        }  # fmt: skip
    xfit = [cross[f"x-s{s}"]["ensemble_test"] for s in SEEDS]
    full = [members[f"blocks__ctl-b0-s{s}"]["test_accuracy"] for s in SEEDS]  # the committed recipe's seeds
    rule = paired(diffs_ens) if len(diffs_ens) > 1 else None
    summary = {
        "members": members,
        "blocks": blocks,
        "ensemble_minus_members_val": rule,
        "soup_minus_members_val": paired(diffs_soup) if len(diffs_soup) > 1 else None,
        "adopt_ensembling": bool(rule and rule["ci95"][0] > 0 and len(diffs_ens) == len(BLOCKS)),
        "cross_fit": cross,
        "cross_fit_ensembles_test_mean": round(statistics.mean(xfit), 4) if None not in xfit else None,
        "curve_epochs": curve(runs, "curve/n{n}-s{s}", full),  # 4 epochs: fewer pairs, fewer steps
        "curve_steps": curve(runs, f"curvesteps/n{{n}}-steps{STEPS}-s{{s}}", full),  # the full run's steps
    }
    return summary


def print_table(s: dict) -> None:
    print("| block | members val | ensemble val | soup val | members test | ensemble test | soup test |")
    print("|---|---|---|---|---|---|---|")
    for b, e in s["blocks"].items():
        print(f"| {b} | {e['member_val']} | {e.get('ensemble_val')} | {e.get('soup_val')} | {e['member_test']} | "
              f"{e.get('ensemble_test')} | {e.get('soup_test')} |")  # fmt: skip
    print("ensemble minus members, validation, paired by block:", s["ensemble_minus_members_val"],
          "adopt:", s["adopt_ensembling"])  # fmt: skip
    print("soup minus members, validation, paired by block:", s["soup_minus_members_val"])
    for name, e in s["cross_fit"].items():
        print(f"{name}: {e}")
    print("cross-fit logit ensembles, test mean of seeds 1-3:", s["cross_fit_ensembles_test_mean"])
    print("curve, 4 epochs:", s["curve_epochs"])
    print(f"curve, {STEPS} steps:", s["curve_steps"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default="/tmp/runs9", type=Path)
    ap.add_argument("--out", default="/tmp/ens9", type=Path)
    ap.add_argument("--gpus", type=int, default=1)
    ap.add_argument("--results", type=Path, nargs="*", default=[], help="pipeline_runs.py results.json files")
    ap.add_argument("--analyse-only", action="store_true")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.analyse_only:
        score_all(args.work, args.out, args.gpus)
    summary = analyse(args.out, args.results)
    (args.out / "results.json").write_text(json.dumps(summary, indent=1) + "\n")
    print_table(summary)


if __name__ == "__main__":
    main()
