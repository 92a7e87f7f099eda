"""The train/val/test split: sizes from params, duplicates dropped across pools, stratified draws.

Offline the training and validation pairs come from SNLI's validation split and the test pairs from its test
split; a pair that is in the test pool never reaches training or model selection.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from nli.core import config
from nli.core.config import shown_path
from nli.core.errors import UserError
from nli.core.labels import LABELS
from nli.core.records import Pool

SPLITS = ("train", "val", "test")


def pair_key(record: dict) -> tuple[str, str]:
    """What makes two records the same pair: premise and hypothesis, case and spacing ignored."""
    return (" ".join(record["premise"].split()).casefold(), " ".join(record["hypothesis"].split()).casefold())


def drop_duplicates(pools: list[Pool]) -> int:
    """Keep each (premise, hypothesis) pair once over ``pools``, in priority order (first pool wins).

    Within a pool the first occurrence stays; a pair already in an earlier pool is dropped from a later
    one, so a test pair copied into the validation file never reaches training, and a repeated pair can't
    land in both train and val. Each pool's ``duplicates_dropped`` is set; returns the total.
    """
    seen: set[tuple[str, str]] = set()
    for pool in pools:
        kept = []
        for rec in pool.records:
            key = pair_key(rec)
            if key not in seen:
                seen.add(key)
                kept.append(rec)
        pool.duplicates_dropped = len(pool.records) - len(kept)
        pool.records = kept
    return sum(pool.duplicates_dropped for pool in pools)


def stratified_sample(records: list[dict], size: int | None, seed: int, what: str) -> tuple[list, list]:
    """Draw ``size`` records stratified by label (``None`` = all); return (sample, rest)."""
    if size is None or size == len(records):
        return list(records), []
    if size > len(records):
        raise UserError(
            f"{what}: asked for {size} pairs but the pool has only {len(records)}; "
            f"lower the size in params.yaml or use 'all'"
        )
    counts = Counter(r["label"] for r in records)
    classes = len(counts)
    lonely = sorted(LABELS[label] for label, n in counts.items() if n < 2)
    if lonely:  # a stratified draw puts each label on both sides, so each needs two pairs at least
        raise UserError(
            f"{shown_path()}: {what} = {size}: the pool of {len(records)} pairs holds a single "
            f"{' and a single '.join(map(repr, lonely))} pair, too few for a draw stratified by label; add pairs "
            f"of that label to the raw data or use 'all'"
        )
    if min(size, len(records) - size) < classes:
        raise UserError(
            f"{shown_path()}: {what} = {size} leaves fewer than one pair per label on one side of a stratified "
            f"draw from {len(records)} pairs ({classes} labels); use a size between {classes} and "
            f"{len(records) - classes}, or 'all'"
        )
    from sklearn.model_selection import train_test_split

    sample, rest = train_test_split(records, train_size=size, random_state=seed, stratify=[r["label"] for r in records])
    return sample, rest


def validation_block(pool: list[dict], n: dict, block: int, seed: int) -> tuple[list[dict], list[dict]]:
    """(validation, rest): block ``block`` of the disjoint stratified blocks of n["val"] pairs cut from ``pool``.

    Block 0 is one stratified draw with ``seed`` (the usual validation set); block b > 0 is drawn with seed + 7919 * b
    from what blocks 0..b-1 left. The rest is the whole pool but the chosen block, so the training draw has the same
    pool size whichever block validates.
    """
    size = n["val"] if n["val"] is not None else len(pool) - n["train"]
    if block == 0:
        return stratified_sample(pool, size, seed, "split.val_size")
    if n["val"] is None:
        raise UserError(f"{shown_path()}: split.val_block = {block} needs a number for split.val_size, not 'all'")
    blocks = len(pool) // size
    if block >= blocks:
        raise UserError(
            f"{shown_path()}: split.val_block = {block}: the pool of {len(pool)} pairs holds {blocks} disjoint "
            f"blocks of split.val_size = {size} pairs (0 to {blocks - 1}); use a block below {blocks}"
        )
    remaining = pool
    for b in range(block + 1):
        val, remaining = stratified_sample(remaining, size, seed + 7919 * b, "split.val_size")
    taken = {r["id"] for r in val}
    return val, [r for r in pool if r["id"] not in taken]


def make_splits(pools: dict[str, Pool], source: str, sizes: config.Split | Mapping, seed: int) -> dict[str, list[dict]]:
    """Offline (dvc): train and val from ``validation``, test from ``test``; hub: official splits.

    Sizes are validated against the pools before any sampling; outputs are sorted by id.
    """
    sizes = config.section("split", dict(sizes)) if isinstance(sizes, Mapping) else sizes
    n = {k: None if (size := getattr(sizes, f"{k}_size")) == "all" else size for k in SPLITS}  # None: the whole pool
    # test first: a pair that is also in the test pool never reaches training or model selection
    order = ("test", "validation") if source == "dvc" else ("test", "validation", "train")
    drop_duplicates([pools[name] for name in order])
    if source == "dvc":
        pool = pools["validation"].records
        if n["train"] is None and n["val"] is None:
            raise UserError(
                f"{shown_path()}: split.train_size and split.val_size are both 'all', but offline "
                "they share the validation pool; give val_size a number"
            )
        fixed = (n["train"] or 0) + (n["val"] or 0)
        if fixed > len(pool):
            raise UserError(
                f"{shown_path()}: split.train_size + split.val_size = {fixed} exceeds the "
                f"{len(pool)} pairs of the validation pool they are drawn from"
            )
        val, rest = validation_block(pool, n, sizes.val_block, seed)
        train, _ = stratified_sample(rest, n["train"], seed + 1, "split.train_size")
        test, _ = stratified_sample(pools["test"].records, n["test"], seed + 2, "split.test_size")
    else:
        for key, pool_name in (("train", "train"), ("val", "validation"), ("test", "test")):
            if n[key] is not None and n[key] > len(pools[pool_name].records):
                raise UserError(
                    f"{shown_path()}: split.{key}_size = {n[key]} exceeds the "
                    f"{len(pools[pool_name].records)} pairs of the {pool_name} split"
                )
        train, _ = stratified_sample(pools["train"].records, n["train"], seed, "split.train_size")
        val, _ = stratified_sample(pools["validation"].records, n["val"], seed + 1, "split.val_size")
        test, _ = stratified_sample(pools["test"].records, n["test"], seed + 2, "split.test_size")
    return {k: sorted(v, key=lambda r: r["id"]) for k, v in (("train", train), ("val", val), ("test", test))}


def label_counts(records: list[dict]) -> dict[str, int]:
    counts = Counter(r["label"] for r in records)
    return {name: counts.get(i, 0) for i, name in enumerate(LABELS)}
