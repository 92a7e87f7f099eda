"""bench/gpu_session/ensembles_s9.py, which weighs logit ensembles for issue 27: members' log-probabilities are averaged
pair by pair, members must have scored the same pairs, and the learning curve's extrapolation is the fitted line's."""

from __future__ import annotations

import csv
import importlib.util
import math
import sys

import pytest
from conftest import ROOT

HERE = ROOT / "bench" / "gpu_session"
sys.path.insert(0, str(HERE))  # the script imports its session neighbours (soups_s4, soups_s5)
spec = importlib.util.spec_from_file_location("ensembles_s9", HERE / "ensembles_s9.py")
ensembles = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ensembles)

GOLD = ["entailment", "neutral", "contradiction", "entailment"]


def predictions(path, probs, ids=None, gold=GOLD):
    """An evaluate stage's predictions file with these label probabilities (rows in LABELS order)."""
    fields = ["id", "gold", "predicted"] + [f"logprob_{label}" for label in ensembles.LABELS]
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for i, (row, label) in enumerate(zip(probs, gold, strict=True)):
            predicted = ensembles.LABELS[max(range(3), key=row.__getitem__)]
            logprobs = {f"logprob_{lab}": math.log(p) for lab, p in zip(ensembles.LABELS, row, strict=True)}
            writer.writerow({"id": (ids or [f"t{j}" for j in range(len(gold))])[i], "gold": label,
                             "predicted": predicted, **logprobs})  # fmt: skip
    return path


def test_an_ensemble_averages_log_probabilities_and_corrects_what_one_member_gets_wrong(tmp_path):
    # member a is wrong on pair 1 by a little, member b wrong on pair 2 by a little; each right elsewhere, confidently
    a = predictions(tmp_path / "a.csv", [[0.8, 0.1, 0.1], [0.45, 0.4, 0.15], [0.1, 0.1, 0.8], [0.8, 0.1, 0.1]])
    b = predictions(tmp_path / "b.csv", [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.5, 0.4], [0.8, 0.1, 0.1]])
    assert ensembles.accuracy(a) == ensembles.accuracy(b) == 0.75
    assert ensembles.ensemble_accuracy([a, b]) == 1.0
    assert ensembles.ensemble_accuracy([a, b], "prob") == 1.0
    assert ensembles.ensemble_accuracy([a, a, a]) == 0.75  # copies of one member are that member


def test_log_probability_and_probability_means_can_disagree(tmp_path):
    # b all but rules entailment out: the log-probability mean follows that veto (neutral), the probability mean
    # follows a's confident entailment
    a = predictions(tmp_path / "a.csv", [[0.9, 0.05, 0.05]], gold=["neutral"])
    b = predictions(tmp_path / "b.csv", [[0.001, 0.5, 0.499]], gold=["neutral"])
    assert ensembles.ensemble_accuracy([a, b]) == 1.0
    assert ensembles.ensemble_accuracy([a, b], "prob") == 0.0


def test_members_that_scored_different_pairs_are_refused(tmp_path):
    a = predictions(tmp_path / "a.csv", [[0.8, 0.1, 0.1]] * 4)
    b = predictions(tmp_path / "b.csv", [[0.8, 0.1, 0.1]] * 4, ids=["t0", "t1", "t2", "x"])
    with pytest.raises(ValueError, match="different pairs"):
        ensembles.ensemble_accuracy([a, b])


def test_the_learning_curve_is_the_least_squares_line_in_log2_pairs():
    # exactly 0.80 at 4,000 pairs and 2 points more per doubling: 0.85 needs 2.5 doublings more than 4,000 pairs
    points = {n: [0.80 + 0.02 * math.log2(n / 4000)] * 3 for n in (1000, 2000, 4000)}
    curve = ensembles.learning_curve(points)
    assert curve["per_doubling"] == pytest.approx(0.02)
    assert curve["per_doubling_ci95"] == pytest.approx([0.02, 0.02])  # no scatter: no width
    assert curve["r2"] == pytest.approx(1.0)
    assert curve["pairs_for_target"] == round(4000 * 2**2.5)
    # scatter about the same line widens the slope's interval, and the pairs' range with it
    noisy = {n: [a[0] - 0.01, a[0], a[0] + 0.01] for n, a in points.items()}
    curve = ensembles.learning_curve(noisy)
    low, high = curve["per_doubling_ci95"]
    assert low < 0.02 < high
    assert curve["pairs_for_target_ci95"][0] < round(4000 * 2**2.5) < curve["pairs_for_target_ci95"][1]
    flat = ensembles.learning_curve({1000: [0.8, 0.81], 2000: [0.79, 0.8]})
    assert flat["pairs_for_target"] is None  # no gain with more data: no size reaches the target


def test_a_curve_reads_its_runs_by_name_and_fits_only_from_half_the_pairs():
    runs = {f"curvesteps/n{n}-steps148-s{s}": {"finetuned": {"ft_acc": acc}}
            for n, acc in ((2335, 0.5), (4671, 0.80), (7006, 0.82)) for s in (1, 2, 3)}  # fmt: skip
    curve = ensembles.curve(runs, "curvesteps/n{n}-steps148-s{s}", [0.84, 0.84, 0.84])
    assert curve["mean_by_pairs"] == {"2335": 0.5, "4671": 0.8, "7006": 0.82, "9342": 0.84}
    assert curve["fitted_pairs"] == [4671, 7006, 9342]  # 2,335 pairs' few steps would steepen the line
