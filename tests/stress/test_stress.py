"""The stress stage: label-preserving perturbations, their paired statistics, and the stage on a tiny model."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, make_pairs, tiny_params, write_jsonl

from nli.reporting import stats
from nli.stress import analysis, perturb

PAIR = {"id": "t-1", "premise": "A man plays a guitar.", "hypothesis": "A person is making music.", "label": 0}


def test_perturbations_change_only_the_text_they_name():
    rng = np.random.default_rng(0)
    assert perturb.tautology(PAIR, rng)["hypothesis"] == "A person is making music and true is true."
    assert perturb.negation(PAIR, rng)["hypothesis"] == "A person is making music and false is not true."
    longer = perturb.length_mismatch(PAIR, rng)
    assert longer["premise"] == "A man plays a guitar " + " ".join(["and true is true"] * 5) + "."
    assert longer["hypothesis"] == PAIR["hypothesis"]
    for name in perturb.PERTURBATIONS:
        out = perturb.perturb([PAIR], name, seed=1)[0]
        assert (out["id"], out["label"]) == (PAIR["id"], PAIR["label"])  # the gold label is kept


def test_spelling_swaps_two_inner_adjacent_letters_of_one_word_reproducibly():
    typo = perturb.perturb([PAIR], "spelling", seed=3)[0]["hypothesis"]
    assert typo == perturb.perturb([PAIR], "spelling", seed=3)[0]["hypothesis"]
    before, after = PAIR["hypothesis"].split(" "), typo.split(" ")
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert len(changed) == 1
    word, swapped = changed[0]
    assert sorted(word) == sorted(swapped) and word[0] == swapped[0] and word[-1] == swapped[-1]
    diffs = [i for i, (x, y) in enumerate(zip(word, swapped, strict=True)) if x != y]
    assert len(diffs) == 2 and diffs[1] == diffs[0] + 1
    assert perturb.spelling({**PAIR, "hypothesis": "A cat."}, np.random.default_rng(0))["hypothesis"] == "A cat."


def test_sample_is_seeded_and_keeps_the_split_order():
    pairs = [{"id": i} for i in range(50)]
    a = perturb.sample(pairs, 10, seed=4)
    assert a == perturb.sample(pairs, 10, seed=4) and a != perturb.sample(pairs, 10, seed=5)
    assert [p["id"] for p in a] == sorted(p["id"] for p in a)
    assert perturb.sample(pairs, 80, seed=4) == pairs


def test_paired_results_flip_rate_and_mcnemar_by_hand():
    gold = np.array(["entailment"] * 6)
    clean = np.array(["entailment", "entailment", "entailment", "neutral", "neutral", "contradiction"])
    # row 0 breaks, row 3 is fixed, row 4 flips wrong -> wrong, row 5 stays
    tauto = np.array(["neutral", "entailment", "entailment", "entailment", "contradiction", "contradiction"])
    r = analysis.paired_results(gold, clean, {"tautology": tauto})["tautology"]
    assert (r["accuracy_before"], r["accuracy_after"]) == (pytest.approx(0.5), pytest.approx(0.5))
    assert r["flip_rate"] == pytest.approx(3 / 6) and (r["broken"], r["fixed"]) == (1, 1)
    assert r["mcnemar_p"] == pytest.approx(stats.mcnemar_exact_p(1, 1))
    shown = analysis.flipped_examples(
        [{"id": str(i), "premise": "p", "hypothesis": "h"} for i in range(6)],
        [{"id": str(i), "premise": "p", "hypothesis": "h!"} for i in range(6)],
        gold,
        clean,
        tauto,
        k=2,
    )
    assert [e["id"] for e in shown] == ["0", "3"]  # the broken right answer first


def test_stress_stage_writes_metrics_plot_and_report(tmp_path):
    params = tiny_params()
    params["stress"] = {"pairs": 12, "examples": 2}
    (tmp_path / "params.yaml").write_text(json.dumps(params))
    write_jsonl(tmp_path / "test.jsonl", [dict(r, id=f"test-{i}") for i, r in enumerate(make_pairs(20, 7))])
    cmd = [sys.executable, str(ROOT / "stages/stress.py"), "--params", "params.yaml", "--test", "test.jsonl"]
    cmd += ["--adapter", "", "--metrics", "m/stress.json", "--plot", "p/stress.csv", "--report", "r/stress.md"]
    done = subprocess.run([*cmd, "--run-log", "runs/stress.json"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    metrics = json.loads((tmp_path / "m/stress.json").read_text())
    assert list(metrics) == ["clean_accuracy", "tautology", "negation", "length_mismatch", "spelling"]
    assert all(
        set(v) == {"accuracy", "accuracy_delta", "flip_rate", "mcnemar_p"}
        for k, v in metrics.items()
        if k != "clean_accuracy"
    )
    plot = pd.read_csv(tmp_path / "p/stress.csv")
    assert plot["perturbation"].tolist() == ["clean", *perturb.PERTURBATIONS]
    assert plot["accuracy"].iloc[0] == pytest.approx(metrics["clean_accuracy"])
    report = (tmp_path / "r/stress.md").read_text()
    assert "# Stress tests" in report and "12 test pairs" in report and "### spelling" in report
    assert json.loads((tmp_path / "runs/stress.json").read_text())["info"]["scored"] == 60

    params["stress"]["pairs"] = 0
    (tmp_path / "params.yaml").write_text(json.dumps(params))
    bad = subprocess.run([*cmd, "--run-log", "runs/stress.json"], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "stress.pairs" in bad.stderr
