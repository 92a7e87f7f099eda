"""Record validation, the split stage's sampling, and its command-line behaviour."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT, make_pairs, tiny_params, write_jsonl

from nli.core import records
from nli.core.errors import UserError
from nli.data import splits


def test_malformed_json_names_file_and_line(tmp_path):
    path = write_jsonl(tmp_path / "validation.jsonl", [make_pairs(1)[0], '{"premise": "x", '])
    with pytest.raises(UserError, match=r"validation\.jsonl:2: malformed JSON"):
        records.load_raw_file(path, "validation")


@pytest.mark.parametrize(
    "row, message",
    [
        ({"hypothesis": "h", "label": 0}, r":1: field 'premise' is missing"),
        ({"premise": "  ", "hypothesis": "h", "label": 0}, r":1: field 'premise' is empty"),
        ({"premise": "p", "hypothesis": 3, "label": 0}, r":1: field 'hypothesis' is empty or not a string"),
        ({"premise": "p", "hypothesis": "h"}, r":1: field 'label' is missing"),
        ({"premise": "p", "hypothesis": "h", "label": 7}, r":1: unknown label 7"),
        ({"premise": "p", "hypothesis": "h", "label": True}, r":1: unknown label True"),
    ],
)
def test_bad_records_are_clear_errors(tmp_path, row, message):
    path = write_jsonl(tmp_path / "test.jsonl", [row])
    with pytest.raises(UserError, match=message):
        records.load_raw_file(path, "test")


def test_unlabeled_pairs_are_dropped_and_counted(tmp_path):
    rows = make_pairs(6) + [
        {"premise": "p", "hypothesis": "h", "label": -1},
        {"premise": "p", "hypothesis": "h", "label": "-"},
    ]
    pool = records.load_raw_file(write_jsonl(tmp_path / "test.jsonl", rows), "test")
    assert len(pool.records) == 6 and pool.dropped_unlabeled == 2
    assert pool.records[0]["id"] == "test-000001"


def test_label_names_are_accepted(tmp_path):
    rows = [{"premise": "p", "hypothesis": "h", "label": "contradiction"}]
    assert records.load_raw_file(write_jsonl(tmp_path / "t.jsonl", rows), "t").records[0]["label"] == 2


def pools(raw_dir):
    return {n: records.load_raw_file(raw_dir / f"{n}.jsonl", n) for n in ("validation", "test")}


def test_split_is_deterministic_stratified_and_leak_free(raw_dir):
    sizes = {"train_size": 60, "val_size": 30, "test_size": 30}
    a = splits.make_splits(pools(raw_dir), "dvc", sizes, seed=7)
    b = splits.make_splits(pools(raw_dir), "dvc", sizes, seed=7)
    c = splits.make_splits(pools(raw_dir), "dvc", sizes, seed=8)
    assert a == b and a["train"] != c["train"]
    ids = {k: {r["id"] for r in v} for k, v in a.items()}
    assert not ids["train"] & ids["val"]
    assert all(i.startswith("validation-") for i in ids["train"] | ids["val"])
    assert all(i.startswith("test-") for i in ids["test"])
    assert splits.label_counts(a["val"]) == {"entailment": 10, "neutral": 10, "contradiction": 10}


def test_all_takes_the_rest_of_the_pool(raw_dir):
    out = splits.make_splits(pools(raw_dir), "dvc", {"train_size": "all", "val_size": 20, "test_size": "all"}, 0)
    assert (len(out["train"]), len(out["val"]), len(out["test"])) == (100, 20, 60)


@pytest.mark.parametrize(
    "sizes, message",
    [
        ({"train_size": 100, "val_size": 30, "test_size": 10}, "exceeds the 120 pairs"),
        ({"train_size": 10, "val_size": 10, "test_size": 61}, "pool has only 60"),
        ({"train_size": "all", "val_size": "all", "test_size": 10}, "both 'all'"),
        ({"train_size": 0, "val_size": 10, "test_size": 10}, r"split.train_size = 0 is out of range"),
    ],
)
def test_impossible_sizes_fail_before_sampling(raw_dir, sizes, message):
    with pytest.raises(UserError, match=message):
        splits.make_splits(pools(raw_dir), "dvc", sizes, 0)


def test_hub_source_reads_a_local_dataset_folder(tmp_path):
    folder = tmp_path / "snli"
    for split, n in (("train", 30), ("validation", 12), ("test", 9)):
        write_jsonl(
            folder / f"{split}.jsonl", make_pairs(n, seed=n) + [{"premise": "p", "hypothesis": "h", "label": -1}]
        )
    got = records.load_hub(str(folder))
    assert {k: len(v.records) for k, v in got.items()} == {"train": 30, "validation": 12, "test": 9}
    assert got["train"].dropped_unlabeled == 1
    out = splits.make_splits(got, "hub", {"train_size": "all", "val_size": 6, "test_size": "all"}, 0)
    assert len(out["train"]) == 30 and all(r["id"].startswith("validation-") for r in out["val"])


def test_hub_source_unreachable_says_what_to_configure():
    with pytest.raises(UserError, match="data.source: dvc"):
        records.load_hub("no-such-owner/no-such-dataset")


def run_split(tmp_path, raw_dir, params_file, params):
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "stages/split.py"),
            "--params",
            str(params_file(params)),
            "--raw",
            str(raw_dir),
            "--out-dir",
            str(tmp_path / "split"),
            "--metrics",
            str(tmp_path / "data.json"),
            "--run-log",
            str(tmp_path / "runs" / "split.json"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )


def test_split_stage_writes_sets_and_metrics(tmp_path, raw_dir, params_file):
    result = run_split(tmp_path, raw_dir, params_file, tiny_params())
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "data.json").read_text())
    assert metrics == {"train": 48, "val": 24, "test": 30, "duplicates_dropped": 0}  # quality numbers only
    run_log = json.loads((tmp_path / "runs" / "split.json").read_text())
    assert run_log["info"]["from"]["train"] == "validation" and sum(run_log["info"]["labels"]["val"].values()) == 24
    rows = records.read_split(tmp_path / "split/train.jsonl")
    assert len(rows) == 48 and set(rows[0]) == {"id", "premise", "hypothesis", "label"}


def test_split_stage_bad_param_is_one_line_not_a_traceback(tmp_path, raw_dir, params_file):
    result = run_split(tmp_path, raw_dir, params_file, tiny_params(split__test_size=10_000))
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert not (tmp_path / "split").exists()  # nothing half-written


def test_split_stage_missing_raw_data_says_dvc_pull(tmp_path, params_file):
    result = run_split(tmp_path, tmp_path / "nowhere", params_file, tiny_params())
    assert result.returncode == 2 and "dvc pull" in result.stderr


def test_duplicate_pairs_never_cross_splits(tmp_path, params_file):
    """Test pairs copied into the validation file, and pairs repeated in it, are dropped and counted."""
    test_rows = make_pairs(60, seed=2)
    val_rows = make_pairs(120, seed=1)
    copied = [dict(r, premise="  " + r["premise"].upper()) for r in test_rows[:10]]  # case/space variants too
    repeated = val_rows[:15]
    raw = tmp_path / "raw"
    write_jsonl(raw / "validation.jsonl", val_rows + copied + repeated)
    write_jsonl(raw / "test.jsonl", test_rows + test_rows[:5])
    params = tiny_params()
    params["split"] = {"train_size": 90, "val_size": 30, "test_size": "all"}
    result = run_split(tmp_path, raw, params_file, params)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "data.json").read_text()) == {
        "train": 90,
        "val": 30,
        "test": 60,
        "duplicates_dropped": 5 + 10 + 15,
    }
    sets = {n: records.read_split(tmp_path / "split" / f"{n}.jsonl") for n in ("train", "val", "test")}
    keys = {n: [splits.pair_key(r) for r in rows] for n, rows in sets.items()}
    assert all(len(k) == len(set(k)) for k in keys.values())
    assert not set(keys["test"]) & set(keys["train"] + keys["val"])
    assert not set(keys["train"]) & set(keys["val"])


def test_a_failed_split_leaves_the_previous_split_folder_whole(tmp_path, raw_dir, params_file, monkeypatch, capsys):
    """Disk full while writing test.jsonl: the old train/val/test stay together, no mix of old and new."""
    import errno

    import split as split_stage  # stages/ is on pytest's pythonpath

    from nli.core import files

    assert run_split(tmp_path, raw_dir, params_file, tiny_params()).returncode == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "split").iterdir()}
    real = files.write_jsonl

    def full_disk(path, rows):
        if str(path).endswith("test.jsonl"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, rows)

    monkeypatch.setattr(files, "write_jsonl", full_disk)
    monkeypatch.setattr(
        sys,
        "argv",
        ["split.py", "--params", str(params_file(tiny_params(split__train_size=40)))]
        + ["--raw", str(raw_dir), "--out-dir", str(tmp_path / "split")]
        + ["--metrics", str(tmp_path / "data.json"), "--run-log", str(tmp_path / "r.json")],
    )
    with pytest.raises(SystemExit) as exit_:
        from nli.core.errors import run_stage

        run_stage(split_stage.main)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: No space left on device writing") and err.count("\n") == 1
    assert {p.name: p.read_bytes() for p in (tmp_path / "split").iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".split")]  # no temporary folders left


def test_val_size_too_small_to_stratify_is_a_clear_error(raw_dir):
    with pytest.raises(UserError, match=r"split.val_size = 2 is out of range.*one pair per label"):
        splits.make_splits(pools(raw_dir), "dvc", {"train_size": 60, "val_size": 2, "test_size": 30}, seed=1)


def test_validation_blocks_are_disjoint_and_each_trains_on_the_same_number_of_pairs(raw_dir):
    """split.val_block N validates on the N-th disjoint stratified block of val_size pairs; the training draw comes
    from the rest of the pool, so every block trains on as many pairs; block 0 is the usual draw; test is untouched."""
    sizes = {"train_size": 60, "val_size": 24, "test_size": 30}
    usual = splits.make_splits(pools(raw_dir), "dvc", sizes, seed=3)
    runs = [splits.make_splits(pools(raw_dir), "dvc", {**sizes, "val_block": b}, seed=3) for b in range(5)]
    assert runs[0] == usual
    vals = [{r["id"] for r in out["val"]} for out in runs]
    assert all(len(v) == 24 for v in vals) and len(set().union(*vals)) == 5 * 24  # pairwise disjoint
    for out, val in zip(runs, vals):
        assert len(out["train"]) == 60 and not {r["id"] for r in out["train"]} & val
        assert splits.label_counts(out["val"]) == {"entailment": 8, "neutral": 8, "contradiction": 8}
        assert out["test"] == usual["test"]
    assert runs[1]["train"] != runs[2]["train"]


@pytest.mark.parametrize(
    "sizes, message",
    [
        ({"train_size": 10, "val_size": 24, "val_block": 5}, r"split.val_block = 5: the pool of 120 pairs holds 5"),
        ({"train_size": "all", "val_size": "all", "val_block": 1}, "both 'all'"),
        ({"train_size": 10, "val_size": "all", "val_block": 1}, r"split.val_block = 1 needs a number"),
        ({"train_size": 10, "val_size": 10, "val_block": -1}, r"split.val_block = -1 is out of range"),
    ],
)
def test_a_validation_block_beyond_the_pool_is_one_clear_error(raw_dir, sizes, message):
    with pytest.raises(UserError, match=message):
        splits.make_splits(pools(raw_dir), "dvc", {**sizes, "test_size": 10}, 0)
