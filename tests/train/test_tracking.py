"""dvclive curves from the train stage: true global steps, no timings, identical on an identical rerun."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import test_training
from test_training import Interrupt, run

split_dir = test_training.split_dir  # the same fixture


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def steps(path: Path) -> list[int]:
    with open(path, newline="") as f:
        return [int(row["step"]) for row in csv.DictReader(f, delimiter="\t")]


def values(path: Path) -> list[float]:
    with open(path, newline="") as f:
        return [float(row[1]) for row in list(csv.reader(f, delimiter="\t"))[1:]]


def test_curves_on_global_step_without_timings_and_reproducible(tmp_path, split_dir, params_file):
    first = run(tmp_path, split_dir, params_file, "first", train__max_steps=8, train__eval_steps=3)
    metrics = first / "live" / "plots" / "metrics"
    files = set(tree(metrics))
    assert {"loss.tsv", "learning_rate.tsv", "eval/loss.tsv", "eval/accuracy.tsv"} <= files
    assert steps(metrics / "eval" / "accuracy.tsv") == [3, 6, 8]  # Trainer's global steps, last one included
    assert steps(metrics / "loss.tsv")[:3] == [1, 3, 6]  # logging_steps = min(10, eval_steps)
    assert not any(word in p for p in tree(first / "live") for word in ("runtime", "per_second", "flos"))
    # only curves: the folder is the train stage's `plots:` output, and DVC renders every file in it as a plot
    assert all(name.startswith("plots/metrics/") and name.endswith(".tsv") for name in tree(first / "live"))

    second = run(tmp_path, split_dir, params_file, "second", train__max_steps=8, train__eval_steps=3)
    assert tree(second / "live") == tree(first / "live")  # byte for byte: nothing timing-dependent


def test_resumed_run_logs_the_same_curves(tmp_path, split_dir, params_file):
    straight = run(tmp_path, split_dir, params_file, "straight")
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, split_dir, params_file, "resumed", callbacks=[Interrupt(3)])
    resumed = run(tmp_path, split_dir, params_file, "resumed")
    a, b = straight / "live" / "plots" / "metrics", resumed / "live" / "plots" / "metrics"
    assert set(tree(a)) == set(tree(b))
    for name in tree(a):  # the same steps once each (no stale rows from before the crash); values up to resume noise
        assert steps(b / name) == steps(a / name), name
        assert values(b / name) == pytest.approx(values(a / name), rel=1e-4), name
