"""Stage `split`: validate every raw SNLI record, then draw stratified, seeded train/val/test sets.

Offline (data.source: dvc) train and val come from SNLI's validation split and test from its test
split, so the test set never reaches training or model selection. data.source: hub uses the
official train/validation/test splits of `data.hub_dataset`.
"""

import argparse
from pathlib import Path

from nli import config, data, io
from nli.errors import UserError, run_stage


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--raw", default="data/raw/snli", help="folder with validation.jsonl and test.jsonl")
    ap.add_argument("--out-dir", default="data/split")
    ap.add_argument("--metrics", default="metrics/data.json")
    args = ap.parse_args()

    params = config.load(args.params, ["data", "split"])
    source, seed = params["data"]["source"], params["seed"]
    for key in ("train_size", "val_size", "test_size"):  # sizes are checked before any data is read
        data.parse_size(params["split"][key], key)

    if source == "dvc":
        raw = Path(args.raw)
        pools = {name: data.load_raw_file(raw / f"{name}.jsonl", name) for name in ("validation", "test")}
        origin = {"train": "validation", "val": "validation", "test": "test"}
    else:
        pools = data.load_hub(params["data"]["hub_dataset"])
        origin = {"train": "train", "val": "validation", "test": "test"}
    sets = data.make_splits(pools, source, params["split"], seed)

    out = Path(args.out_dir)
    for name, records in sets.items():
        io.write_jsonl(out / f"{name}.jsonl", records)
        print(f"{name:5s} {len(records):6d} pairs from {origin[name]:10s} {data.label_counts(records)}")
    io.write_json(
        args.metrics,
        {
            "source": source if source == "dvc" else params["data"]["hub_dataset"],
            "seed": seed,
            "dropped_unlabeled": {name: pool.dropped_unlabeled for name, pool in pools.items()},
            "pool_sizes": {name: len(pool.records) for name, pool in pools.items()},
            **{
                name: {"n": len(records), "from": origin[name], "labels": data.label_counts(records)}
                for name, records in sets.items()
            },
        },
    )
    overlap = {r["id"] for r in sets["test"]} & {r["id"] for r in sets["train"] + sets["val"]}
    if overlap:  # ids carry their source split, so this can only trip if the sources overlap
        raise UserError(f"test set shares {len(overlap)} ids with train/val")


if __name__ == "__main__":
    run_stage(main)
