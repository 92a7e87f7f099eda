"""Stage `split`: validate every raw SNLI record, then draw stratified, seeded train/val/test sets.

Offline (data.source: dvc) train and val come from SNLI's validation split and test from its test
split, so the test set never reaches training or model selection. data.source: hub uses the
official train/validation/test splits of `data.hub_dataset`.
"""

import time
from pathlib import Path

import _checkout  # noqa: F401  (first: this checkout's library, also in a queued experiment's copy)

from nli.core import config, files, profiles, records
from nli.core.errors import ArgumentParser, UserError, run_stage
from nli.data import splits


def main() -> None:
    ap = ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--conf", help="the profiles folder (conf); given, params.yaml's profile label is checked")
    ap.add_argument("--raw", default="data/raw/snli", help="folder with validation.jsonl and test.jsonl")
    ap.add_argument("--out-dir", default="data/split")
    ap.add_argument("--metrics", default="metrics/data.json")
    ap.add_argument("--run-log", default="runs/split.json", help="run info (source, pools, labels; not a metric)")
    args = ap.parse_args()
    start = time.perf_counter()

    params = config.load(args.params, ["data", "split"])
    if args.conf:  # a profile renamed with `dvc exp run -S profile=...` would run one recipe under another's name
        profiles.check_label(config.read_yaml(Path(args.params)), args.conf, args.params)
    source, seed = params.data.source, params.seed

    if source == "dvc":
        raw = Path(args.raw)
        pools = {name: records.load_raw_file(raw / f"{name}.jsonl", name) for name in ("validation", "test")}
        origin = {"train": "validation", "val": "validation", "test": "test"}
    else:
        pools = records.load_hub(params.data.hub_dataset)
        origin = {"train": "train", "val": "validation", "test": "test"}
    sets = splits.make_splits(pools, source, params.split, seed)

    overlap = {splits.pair_key(r) for r in sets["test"]} & {splits.pair_key(r) for r in sets["train"] + sets["val"]}
    if overlap:  # drop_duplicates makes this impossible; a guard, not a feature
        raise UserError(f"test set shares {len(overlap)} pairs with train/val")

    with files.atomic_dir(args.out_dir) as tmp:  # the whole folder, or the old one stays
        for name, rows in sets.items():
            files.write_jsonl(tmp / f"{name}.jsonl", rows)
            print(f"{name:5s} {len(rows):6d} pairs from {origin[name]:10s} {splits.label_counts(rows)}")
    duplicates = sum(pool.duplicates_dropped for pool in pools.values())
    print(f"dropped {duplicates} repeated (premise, hypothesis) pairs (test pairs win)")
    counts = {name: len(rows) for name, rows in sets.items()}
    files.write_json(args.metrics, {**counts, "duplicates_dropped": duplicates})  # quality numbers only
    files.write_run_log(
        args.run_log,
        info={
            "source": source if source == "dvc" else params.data.hub_dataset,
            "from": origin,
            "labels": {name: splits.label_counts(rows) for name, rows in sets.items()},
            "seed": seed,
            "dropped_unlabeled": {name: pool.dropped_unlabeled for name, pool in pools.items()},
            "duplicates_dropped": {name: pool.duplicates_dropped for name, pool in pools.items()},
            "pool_sizes": {name: len(pool.records) for name, pool in pools.items()},
        },
        cost={"seconds": round(time.perf_counter() - start, 2)},
    )


if __name__ == "__main__":
    run_stage(main)
