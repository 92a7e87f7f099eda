#!/usr/bin/env python3
"""Seed variance of experiments: mean ± sd per recipe over training seeds, and the difference of two recipes.

    dvc exp run --queue -S train.seed=1,2,3 [-S lora.r=8,16]   # a sweep over training seeds (and recipes)
    dvc queue start -j 1 && dvc queue status                    # run it; wait until nothing is Queued/Running
    python scripts/seed_variance.py                             # reads `dvc exp show --json` itself
    dvc exp show --json | python scripts/seed_variance.py --input - --compare 0 1 --output bench/results/seeds.json

A recipe is every param except train.seed, so the split (drawn with the top-level seed) is the same in every run
and only training's randomness varies. Recipes are numbered in the printed table; --compare I J prints mean(J) -
mean(I) with a 95% interval (paired t when both ran the same seeds, Welch's t otherwise). With exactly two recipes
they are compared without --compare. Exit 2 with one `error:` line on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys

from nli.core import files
from nli.core.errors import UserError, run_stage
from nli.review import seeds
from nli.review.revisions import ReportError, run_command


def read_rows(source: str | None) -> list:
    if source is None:
        try:
            text = run_command([sys.executable, "-m", "dvc", "exp", "show", "--json"], "dvc exp show")
        except ReportError as exc:
            raise UserError(str(exc)) from None
        where = "dvc exp show --json"
    elif source == "-":
        text, where = sys.stdin.read(), "standard input"
    else:
        try:
            with open(source, encoding="utf-8") as handle:
                text = handle.read()
        except FileNotFoundError:
            raise UserError(f"{source} not found; pass the output of `dvc exp show --json`") from None
        where = source
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{where}: not JSON ({exc.msg} at line {exc.lineno}); pass `dvc exp show --json`") from None


def fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", default=None, help="a file with `dvc exp show --json` output, '-' for stdin")
    ap.add_argument("--metric", default="metrics/finetuned.json:ft_acc", help="<metrics file>:<key>")
    ap.add_argument("--seed-param", default=seeds.SEED_PARAM)
    ap.add_argument("--compare", nargs=2, type=int, metavar=("I", "J"), help="recipe numbers from the table")
    ap.add_argument("--output", default=None, help="write the summary as JSON (e.g. under bench/results/)")
    args = ap.parse_args()

    runs = seeds.runs_from_exp_show(read_rows(args.input), args.metric)
    if not runs:
        raise UserError(f"no experiment has {args.metric}; run some (dvc exp run) or pick --metric")
    groups = seeds.recipes(runs, args.seed_param)
    print(f"{args.metric} over {args.seed_param}:")
    print("  #  recipe  seeds  mean ± sd")
    for i, recipe in enumerate(groups):
        s = recipe.summary()
        print(f"  {i}  {s['recipe']}  {s['seeds']}  {fmt(s['mean'])} ± {fmt(s['sd'])}")
    pair = args.compare or ((0, 1) if len(groups) == 2 else None)
    diff = None
    if pair:
        i, j = pair
        if not (0 <= i < len(groups) and 0 <= j < len(groups)) or i == j:
            raise UserError(f"--compare {i} {j}: pick two different recipe numbers from 0 to {len(groups) - 1}")
        diff = seeds.difference(groups[i], groups[j])
        low, high = diff["ci95"]
        print(
            f"{diff['b']} minus {diff['a']}: {diff['difference']:+.4f}, 95% CI [{low:+.4f}, {high:+.4f}] "
            f"({diff['method']})"
        )
    if args.output:
        summary = {
            "metric": args.metric,
            "seed_param": args.seed_param,
            "recipes": [r.summary() for r in groups],
            "difference": diff,
        }
        files.write_json(args.output, summary)


if __name__ == "__main__":
    run_stage(main)
