"""Tests for the compare stage: statistics, slice rules, examples, validation, end to end."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nli.compare import analysis, calibration, predictions, report, slices
from nli.core.labels import LABELS, PREDICTION_COLUMNS
from nli.reporting import stats

REPO = Path(__file__).resolve().parents[2]
OTHER = {"entailment": "neutral", "neutral": "contradiction", "contradiction": "entailment"}


def prediction_rows(outcomes: list[tuple[bool, bool]], golds: list[str] | None = None) -> tuple[list, list]:
    """Baseline and fine-tuned rows where row i is right/wrong as outcomes[i] says."""
    baseline, finetuned = [], []
    for i, (before_ok, after_ok) in enumerate(outcomes):
        gold = golds[i] if golds else LABELS[i % 3]
        text = {
            "id": f"test-{i:06d}",
            "premise": f"A person number {i} walks.",
            "hypothesis": "A person walks.",
            "gold": gold,
        }
        for rows, ok in ((baseline, before_ok), (finetuned, after_ok)):
            rows.append({**text, **probabilities(gold if ok else OTHER[gold], 0.6)})
    return baseline, finetuned


def probabilities(predicted: str, confidence: float) -> dict:
    rest = (1.0 - confidence) / 2
    probs = {f"p_{label}": confidence if label == predicted else rest for label in LABELS}
    return {"predicted": predicted, **probs, "confidence": confidence}


def frame(rows: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    table["correct"] = (table["gold"] == table["predicted"]).astype(int)
    return table[list(PREDICTION_COLUMNS)]


def write_csv(path: Path, rows: list[dict]) -> Path:
    frame(rows).to_csv(path, index=False)
    return path


def outcomes(both_correct: int, fixed: int, broken: int, both_wrong: int) -> list[tuple[bool, bool]]:
    return (
        [(True, True)] * both_correct
        + [(False, True)] * fixed
        + [(True, False)] * broken
        + [(False, False)] * both_wrong
    )


# ---------------------------------------------------------------- statistics


def test_mcnemar_exact_p_matches_known_value():
    assert stats.mcnemar_exact_p(30, 55) == pytest.approx(0.00884, abs=1e-4)
    assert stats.mcnemar_exact_p(55, 30) == pytest.approx(0.00884, abs=1e-4)
    assert stats.mcnemar_exact_p(0, 0) == 1.0
    assert stats.mcnemar_exact_p(10, 10) == pytest.approx(1.0)


def test_comparison_counts_accuracies_and_p_value():
    baseline, finetuned = prediction_rows(outcomes(both_correct=100, fixed=55, broken=30, both_wrong=15))
    result = analysis.compare_predictions(
        frame(baseline), frame(finetuned), examples_per_group=3, bootstrap_samples=500, seed=1
    )
    assert result.counts == {"both_correct": 100, "fixed": 55, "broken": 30, "both_wrong": 15}
    assert result.n == 200
    assert result.overall["accuracy_before"] == pytest.approx(130 / 200)
    assert result.overall["accuracy_after"] == pytest.approx(155 / 200)
    assert result.overall["delta"] == pytest.approx(25 / 200)
    assert result.mcnemar_p == pytest.approx(0.00884, abs=1e-4)
    low, high = result.overall["delta_ci95"]
    assert low < 25 / 200 < high
    assert low > 0  # 55 vs 30 discordant pairs: the interval excludes zero
    again = analysis.compare_predictions(
        frame(baseline), frame(finetuned), examples_per_group=3, bootstrap_samples=500, seed=1
    )
    assert analysis.metrics_dict(again) == analysis.metrics_dict(result)  # every number is seeded


def test_per_label_accuracy_and_tables():
    golds = ["entailment"] * 4 + ["neutral"] * 2
    baseline, finetuned = prediction_rows(
        [(True, True), (False, True), (False, True), (False, False), (True, False), (True, True)], golds
    )
    result = analysis.compare_predictions(
        frame(baseline), frame(finetuned), examples_per_group=5, bootstrap_samples=100, seed=0
    )
    assert result.per_label["entailment"]["accuracy_before"] == pytest.approx(0.25)
    assert result.per_label["entailment"]["accuracy_after"] == pytest.approx(0.75)
    assert result.per_label["neutral"]["accuracy_before"] == pytest.approx(1.0)
    assert result.per_label["neutral"]["accuracy_after"] == pytest.approx(0.5)
    assert result.per_label["contradiction"]["n"] == 0
    assert result.per_label["contradiction"]["accuracy_before"] is None
    # Wrong entailment answers are "neutral", wrong neutral answers "contradiction" (see OTHER).
    assert result.confusion_baseline.loc["entailment", "neutral"] == 3
    assert result.confusion_finetuned.loc["neutral", "contradiction"] == 1
    assert result.transitions.loc["neutral", "entailment"] == 2
    assert result.transitions.to_numpy().sum() == 6


def test_bootstrap_is_reproducible_with_its_seed():
    rng = np.random.default_rng(0)
    before, after = rng.random(300) < 0.6, rng.random(300) < 0.7
    first = stats.bootstrap_delta_ci(before, after, n_samples=2000, seed=42)
    assert first == stats.bootstrap_delta_ci(before, after, n_samples=2000, seed=42)
    assert first != stats.bootstrap_delta_ci(before, after, n_samples=2000, seed=43)
    assert stats.bootstrap_delta_ci(before[:0], after[:0], n_samples=2000, seed=42) is None


def test_bootstrap_matches_resampling_row_indices():
    """The multinomial shortcut gives the same interval as resampling rows (up to Monte Carlo noise)."""
    before = np.array([True] * 120 + [False] * 50 + [True] * 20 + [False] * 10)
    after = np.array([True] * 120 + [True] * 50 + [False] * 20 + [False] * 10)
    rng = np.random.default_rng(7)
    index = rng.integers(0, len(before), size=(20000, len(before)))
    naive = np.quantile(after[index].mean(axis=1) - before[index].mean(axis=1), [0.025, 0.975])
    low, high = stats.bootstrap_delta_ci(before, after, n_samples=20000, seed=7)
    assert low == pytest.approx(naive[0], abs=0.01)
    assert high == pytest.approx(naive[1], abs=0.01)


def test_wilson_matches_the_formula_and_handles_extremes():
    from scipy.stats import norm

    z = norm.ppf(0.975)
    for k, n in [(7, 10), (0, 14), (14, 14), (130, 200)]:
        p = k / n
        center = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
        assert stats.wilson(k, n) == pytest.approx((center - half, center + half), abs=1e-9)
    assert stats.wilson(7, 10) == pytest.approx((0.3968, 0.8922), abs=1e-4)  # textbook value
    assert stats.wilson(0, 0) is None


def test_small_slice_interval_is_not_degenerate():
    """14 of 14 fixed: the bootstrap collapses to [+1, +1]; the paired score interval does not."""
    before, after = np.zeros(14, dtype=bool), np.ones(14, dtype=bool)
    assert stats.bootstrap_delta_ci(before, after, n_samples=1000, seed=0) == (1.0, 1.0)
    change = stats.accuracy_change(before, after)
    low, high = change["delta_ci95"]
    assert 0.5 < low < 0.8 and high == pytest.approx(1.0)
    assert change["after_ci95"][0] == pytest.approx(0.785, abs=1e-3)  # Wilson lower bound of 14/14


def test_newcombe_interval_contains_delta_and_shrinks_with_n():
    counts = {"both_correct": 10, "fixed": 6, "broken": 2, "both_wrong": 4}
    low, high = stats.newcombe_paired_ci(counts)
    assert low < 4 / 22 < high
    big_low, big_high = stats.newcombe_paired_ci({k: 10 * v for k, v in counts.items()})
    assert big_high - big_low < high - low
    assert big_low > 0  # ten times the data: the same +18 pp is clearly positive
    assert stats.newcombe_paired_ci(dict.fromkeys(counts, 0)) is None


def test_calibration_scores_by_hand():
    rows = [
        {"gold": "entailment", **probabilities("entailment", 0.6)},  # right at 0.6
        {"gold": "neutral", **probabilities("entailment", 0.6)},  # wrong at 0.6
    ]
    table = frame([{"id": str(i), "premise": "p", "hypothesis": "h", **r} for i, r in enumerate(rows)])
    assert calibration.brier(table) == pytest.approx((0.16 + 0.04 + 0.04 + 0.36 + 0.64 + 0.04) / 2)
    assert calibration.nll(table) == pytest.approx(-(np.log(0.6) + np.log(0.2)) / 2)
    assert calibration.ece(table) == pytest.approx(0.1)  # one bin: accuracy 0.5, confidence 0.6
    bins = calibration.reliability(table)
    assert bins.to_dict("records") == [{"bin": "0.5-0.6", "n": 2, "confidence": 0.6, "accuracy": 0.5}]


def test_reference_rows_chance_and_majority():
    refs = stats.reference_rows(pd.Series(["neutral", "neutral", "entailment", "contradiction"]))
    assert refs["chance"][1] == pytest.approx(1 / 3)
    assert refs["majority"][1] == pytest.approx(0.5) and "'neutral'" in refs["majority"][0]


# ---------------------------------------------------------------- slices


def test_tokenize_lowercases_and_splits_negative_contractions():
    assert slices.tokenize("The man DOESN'T sleep.") == ("the", "man", "does", "n't", "sleep")
    assert slices.tokenize("A dog\u2019s toy isn't red") == ("a", "dog", "s", "toy", "is", "n't", "red")
    assert slices.tokenize("He cannot, won't.") == ("he", "cannot", "wo", "n't")


def rule(name: str):
    return next(s for s in slices.SLICES if s.name == name).rule


SLICE_CASES = [
    # name, premise, hypothesis, gold, expected
    ("negation:hypothesis_only", "A man plays guitar.", "The man is not playing.", "contradiction", True),
    ("negation:hypothesis_only", "A man plays guitar.", "Nobody plays guitar.", "contradiction", True),
    ("negation:hypothesis_only", "A man plays guitar.", "The man doesn't play.", "contradiction", True),
    ("negation:hypothesis_only", "A man isn't sitting.", "The man doesn't sit.", "entailment", False),
    ("negation:hypothesis_only", "A man plays guitar.", "A man plays notes on a piano.", "neutral", False),
    ("overlap:full", "A black dog runs in the park.", "A dog runs.", "entailment", True),
    ("overlap:full", "A black dog runs in the park.", "A cat runs.", "contradiction", False),
    ("overlap:full/gold=entailment", "A black dog runs in the park.", "The dog runs.", "entailment", True),
    ("overlap:full/gold=entailment", "A black dog runs in the park.", "The dog runs.", "neutral", False),
    ("overlap:full/gold=neutral", "A black dog runs in the park.", "A dog runs.", "neutral", True),
    ("overlap:full/gold=neutral", "A black dog runs in the park.", "A dog sleeps.", "neutral", False),
    ("overlap:full/gold=contradiction", "A dog runs in the park.", "The park runs in a dog.", "contradiction", True),
    ("hyp_len:<=5", "p", "One two three four five.", "neutral", True),
    ("hyp_len:<=5", "p", "One two three four five six.", "neutral", False),
    ("hyp_len:6-8", "p", "One two three four five six.", "neutral", True),
    ("hyp_len:6-8", "p", "one two three four five six seven eight nine", "neutral", False),
    ("hyp_len:9-12", "p", "one two three four five six seven eight nine", "neutral", True),
    ("hyp_len:9-12", "p", " ".join(["w"] * 13), "neutral", False),
    ("hyp_len:>=13", "p", " ".join(["w"] * 13), "neutral", True),
    ("hyp_len:>=13", "p", " ".join(["w"] * 12), "neutral", False),
    ("cue:entailment", "p", "A person is outdoors.", "neutral", True),
    ("cue:entailment", "p", "A person is indoors.", "neutral", False),
    ("cue:entailment/gold=entailment", "p", "An animal runs.", "entailment", True),
    ("cue:entailment/gold=entailment", "p", "An animal runs.", "neutral", False),
    ("cue:entailment/gold!=entailment", "p", "An animal runs.", "neutral", True),
    ("cue:neutral", "p", "The tall man is sad.", "entailment", True),
    ("cue:neutral", "p", "The man is sadly tallish.", "entailment", False),  # whole words only
    ("cue:neutral/gold=neutral", "p", "It is her first competition.", "neutral", True),
    ("cue:neutral/gold!=neutral", "p", "It is her first competition.", "neutral", False),
    ("cue:contradiction", "p", "The cat is sleeping.", "neutral", True),
    ("cue:contradiction", "p", "The dog is running.", "neutral", False),
    ("cue:contradiction/gold=contradiction", "p", "Nobody watches TV.", "contradiction", True),
    ("cue:contradiction/gold!=contradiction", "p", "Nobody watches TV.", "contradiction", False),
    ("len_ratio:<1", "A dog.", "A dog runs.", "neutral", True),
    ("len_ratio:<1", "A dog runs.", "A dog runs.", "neutral", False),
    ("len_ratio:1-2", "A dog runs.", "A dog runs.", "neutral", True),
    ("len_ratio:1-2", "A big dog runs fast.", "A dog.", "neutral", False),
    ("len_ratio:2-3", "A big dog runs fast.", "A dog.", "neutral", True),
    ("len_ratio:2-3", "A big brown dog runs fast.", "A dog.", "neutral", False),
    ("len_ratio:>=3", "A big brown dog runs fast.", "A dog.", "neutral", True),
    ("len_ratio:>=3", "A big dog runs fast.", "A dog.", "neutral", False),
]


@pytest.mark.parametrize(("name", "premise", "hypothesis", "gold", "expected"), SLICE_CASES)
def test_slice_rule(name, premise, hypothesis, gold, expected):
    assert rule(name)(slices.Example(premise, hypothesis, gold)) is expected


def test_every_slice_has_a_rule_test_and_a_safe_unique_name():
    names = [s.name for s in slices.SLICES]
    assert len(names) == len(set(names))
    assert all("," not in name and "." not in name for name in names)
    tested = {case[0] for case in SLICE_CASES}
    assert set(names) <= tested, f"slices without a rule test: {set(names) - tested}"


def test_empty_slice_has_n_zero_and_is_hidden_from_report_and_plot():
    baseline, finetuned = prediction_rows(outcomes(3, 1, 1, 1))  # every hypothesis is "A person walks."
    result = analysis.compare_predictions(
        frame(baseline), frame(finetuned), examples_per_group=2, bootstrap_samples=100, seed=0
    )
    empty = result.slices["cue:contradiction"]
    assert (empty["n"], empty["accuracy_before"], empty["delta"], empty["delta_ci95"]) == (0, None, None, None)
    assert result.slices["hyp_len:<=5"]["n"] == 6
    plot = analysis.slice_plot_rows(result)
    assert list(plot.columns) == ["slice", "n", "stage", "accuracy"]
    assert "cue:contradiction" not in set(plot["slice"]) and "hyp_len:<=5" in set(plot["slice"])
    assert (plot["n"] > 0).all() and plot["accuracy"].notna().all()
    md = report.render(result)
    assert "| cue:contradiction |" not in md and "| hyp_len:<=5 |" in md
    assert "Empty on this test set (not shown):" in md and "`cue:contradiction`" in md


# ---------------------------------------------------------------- examples


def test_examples_most_confident_first_ties_by_id():
    baseline, finetuned = prediction_rows(outcomes(0, 0, 4, 3) + outcomes(0, 3, 0, 0))
    # regressed rows 0-3: fine-tuned confidences with a tie between rows 1 and 3
    for i, conf in enumerate([0.5, 0.9, 0.7, 0.9]):
        finetuned[i].update(probabilities(finetuned[i]["predicted"], conf))
    # corrected rows 7-9: ordered by the baseline's (wrong) confidence
    for i, conf in zip([7, 8, 9], [0.4, 0.8, 0.6], strict=True):
        baseline[i].update(probabilities(baseline[i]["predicted"], conf))
    picked = analysis.select_examples(frame(baseline), frame(finetuned), per_group=3)
    assert picked["regressed"]["id"].tolist() == ["test-000001", "test-000003", "test-000002"]
    assert picked["corrected"]["id"].tolist() == ["test-000008", "test-000009", "test-000007"]
    assert picked["not_corrected"]["id"].tolist() == ["test-000004", "test-000005", "test-000006"]
    shuffled = analysis.select_examples(frame(baseline[::-1]), frame(finetuned[::-1]), per_group=3)
    for group in analysis.EXAMPLE_GROUPS:
        pd.testing.assert_frame_equal(picked[group], shuffled[group])


# ---------------------------------------------------------------- validation


@pytest.fixture
def pair(tmp_path):
    baseline, finetuned = prediction_rows(outcomes(4, 2, 1, 1))
    return tmp_path, baseline, finetuned


def test_valid_files_load(pair):
    tmp, baseline, _ = pair
    loaded = predictions.load_predictions(write_csv(tmp / "baseline.csv", baseline))
    assert loaded["correct"].tolist() == [1] * 4 + [0] * 2 + [1] + [0]
    assert loaded["confidence"].dtype == float


def test_mismatched_ids_name_the_file(pair):
    tmp, baseline, finetuned = pair
    finetuned[2]["id"] = "test-999999"
    b = predictions.load_predictions(write_csv(tmp / "baseline.csv", baseline))
    f = predictions.load_predictions(write_csv(tmp / "finetuned.csv", finetuned))
    with pytest.raises(predictions.CompareInputError, match=r"finetuned\.csv.*row 3.*'id'.*test-999999"):
        predictions.check_paired(b, f, tmp / "baseline.csv", tmp / "finetuned.csv")


def test_different_row_counts_are_rejected(pair):
    tmp, baseline, finetuned = pair
    b = predictions.load_predictions(write_csv(tmp / "baseline.csv", baseline))
    f = predictions.load_predictions(write_csv(tmp / "finetuned.csv", finetuned[:-1]))
    with pytest.raises(predictions.CompareInputError, match=r"finetuned\.csv.*7 rows.*8"):
        predictions.check_paired(b, f, tmp / "baseline.csv", tmp / "finetuned.csv")


def test_bad_label_names_file_row_and_column(pair):
    tmp, baseline, _ = pair
    baseline[5]["predicted"] = "Entailment"
    with pytest.raises(predictions.CompareInputError, match=r"baseline\.csv.*row 6.*'predicted'.*'Entailment'"):
        predictions.load_predictions(write_csv(tmp / "baseline.csv", baseline))


def test_missing_column_is_named(pair):
    tmp, baseline, _ = pair
    path = tmp / "baseline.csv"
    frame(baseline).drop(columns=["confidence"]).to_csv(path, index=False)
    with pytest.raises(predictions.CompareInputError, match=r"baseline\.csv.*missing column\(s\) confidence"):
        predictions.load_predictions(path)


def test_correct_must_agree_with_labels(pair):
    tmp, baseline, _ = pair
    path = tmp / "baseline.csv"
    table = frame(baseline)
    table.loc[0, "correct"] = 0
    table.to_csv(path, index=False)
    with pytest.raises(predictions.CompareInputError, match=r"row 1.*'correct'.*gold == predicted"):
        predictions.load_predictions(path)


def test_text_is_read_verbatim(pair):
    tmp, baseline, _ = pair
    baseline[0]["hypothesis"] = "None"
    loaded = predictions.load_predictions(write_csv(tmp / "baseline.csv", baseline))
    assert loaded["hypothesis"].iat[0] == "None"


# ---------------------------------------------------------------- shortcuts, BH, risk-coverage, temperature

CUE_POOL = (
    [("Nobody is outside.", "contradiction")] * 6
    + [("A man is outdoors.", "entailment")] * 6
    + [("A tall man is here.", "neutral")] * 6
    + [("A man is here.", label) for label in LABELS]
)


def write_train(path: Path) -> Path:
    rows = [
        {"id": f"validation-{i:06d}", "premise": "A man stands.", "hypothesis": h, "label": LABELS.index(g)}
        for i, (h, g) in enumerate(CUE_POOL)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_pmi_cue_words_rank_by_pmi_and_skip_rare_words():
    from nli.compare import shortcuts

    hyps, labels = zip(*CUE_POOL, strict=True)
    cues = shortcuts.cue_words(hyps, labels, per_label=2, min_count=3)
    # "nobody" and "outside" occur only with contradiction: PMI log(3) each, ties alphabetical; "here" is in 9
    # hypotheses, 7 of them neutral: log(7/9 / 7/21) < log(3) of "tall"
    assert cues == {
        "entailment": ("outdoors", "a"),
        "neutral": ("tall", "here"),
        "contradiction": ("nobody", "outside"),
    }
    assert shortcuts.cue_words(hyps, labels, per_label=2, min_count=8)["contradiction"] == ()


def test_hypothesis_only_baseline_splits_the_test_set_into_hard_and_easy():
    """Test items whose hypothesis cue agrees with gold are easy; a misleading cue makes them hard."""
    train = pd.DataFrame(CUE_POOL, columns=["hypothesis", "gold"])
    # 6 easy rows (cue agrees), 4 hard rows (cue says contradiction, gold entailment)
    hyps = ["Nobody is outside."] * 2 + ["A man is outdoors."] * 2 + ["A tall man is here."] * 2
    golds = ["contradiction"] * 2 + ["entailment"] * 2 + ["neutral"] * 2
    hyps += ["Nobody is outside."] * 4
    golds += ["entailment"] * 4
    # the fine-tuned model is right on every row, the baseline on none
    baseline, finetuned = prediction_rows([(False, True)] * 10, golds)
    for rows in (baseline, finetuned):
        for row, h in zip(rows, hyps, strict=True):
            row["hypothesis"] = h
    result = analysis.compare_predictions(
        frame(baseline),
        frame(finetuned),
        examples_per_group=1,
        bootstrap_samples=100,
        seed=0,
        train=train,
        cue_min_count=3,
    )
    sc = result.shortcuts
    assert sc.accuracy == pytest.approx(0.6) and sc.train_n == len(CUE_POOL)
    assert (sc.subsets["hard"]["n"], sc.subsets["easy"]["n"]) == (4, 6)
    assert sc.subsets["hard"]["accuracy_after"] == 1.0 and sc.subsets["hard"]["accuracy_before"] == 0.0
    assert sc.subsets["hard"]["mcnemar_p"] == pytest.approx(stats.mcnemar_exact_p(4, 0))
    # the cue-word slices use the pool's PMI words, not the paper's list
    assert "tall" in result.slice_descriptions["cue:neutral"] and "sad" not in result.slice_descriptions["cue:neutral"]
    metrics = analysis.metrics_dict(result)
    assert metrics["hard_acc_ft"] == 1.0 and metrics["hyp_only_acc"] == pytest.approx(0.6)
    text = report.render(result)
    assert "On the 4 test items where that classifier is wrong, the fine-tuned model is right on 100.00%" in text


def test_slices_get_benjamini_hochberg_q_values():
    from scipy.stats import false_discovery_control

    changes = {
        "a": {"n": 12, "fixed": 10, "broken": 0},
        "b": {"n": 12, "fixed": 6, "broken": 1},
        "c": {"n": 0, "fixed": 0, "broken": 0},
        "d": {"n": 12, "fixed": 3, "broken": 3},
    }
    out = analysis.with_bh(changes)
    p = [stats.mcnemar_exact_p(10, 0), stats.mcnemar_exact_p(6, 1), 1.0]
    assert [out[k]["mcnemar_p"] for k in "abd"] == pytest.approx(p)
    assert [out[k]["q_bh"] for k in "abd"] == pytest.approx(false_discovery_control(p))
    # by hand: q_(i) = min over j >= i of p_(j) * m / j
    assert out["b"]["q_bh"] == pytest.approx(min(p[1] * 3 / 2, 1.0)) and out["a"]["q_bh"] == pytest.approx(p[0] * 3)
    assert out["c"]["q_bh"] is None


def test_risk_coverage_keeps_the_most_confident_items():
    from nli.compare import selective

    confidence = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.95, 0.3, 0.2, 0.1])
    correct = np.array([1, 1, 0, 1, 0, 0, 1, 0, 1, 0], dtype=bool)
    curve = selective.risk_coverage(confidence, correct, coverages=(0.2, 0.5, 1.0))
    assert curve["n"].tolist() == [2, 5, 10]
    assert curve["accuracy"].tolist() == pytest.approx([1.0, 0.8, 0.5])
    assert curve["threshold"].tolist() == pytest.approx([0.9, 0.6, 0.1])
    assert selective.accuracy_at(curve, 0.5) == pytest.approx(0.8)


def test_calibration_before_temperature_comes_from_the_log_probabilities():
    baseline, finetuned = prediction_rows(outcomes(4, 2, 1, 1))
    ft = frame(finetuned)
    for label in LABELS:
        ft[f"logprob_{label}"] = np.log(ft[f"p_{label}"]) * 2.0  # raw logits twice as sharp as the scaled ones
    result = analysis.compare_predictions(frame(baseline), ft, examples_per_group=1, bootstrap_samples=50, seed=0)
    raw = calibration.summary(calibration.from_logprobs(ft))
    assert result.calibration["finetuned_uncalibrated"] == pytest.approx(raw)
    assert raw["nll"] != pytest.approx(result.calibration["finetuned"]["nll"])
    assert calibration.from_logprobs(ft, temperature=2.0)["p_entailment"].to_numpy() == pytest.approx(
        ft["p_entailment"].to_numpy()
    )
    assert "ece_ft_raw" in analysis.metrics_dict(result)


# ---------------------------------------------------------------- the stage


def run_stage(tmp: Path, baseline: list[dict], finetuned: list[dict]) -> subprocess.CompletedProcess:
    write_csv(tmp / "baseline.csv", baseline)
    write_csv(tmp / "finetuned.csv", finetuned)
    (tmp / "params.yaml").write_text(
        "seed: 42\ncompare:\n  examples_per_group: 2\n  bootstrap_samples: 300\n  cue_min_count: 2\n"
    )
    write_train(tmp / "train.jsonl")
    return subprocess.run(
        [
            sys.executable,
            "stages/compare.py",
            "--baseline",
            str(tmp / "baseline.csv"),
            "--finetuned",
            str(tmp / "finetuned.csv"),
            "--params",
            str(tmp / "params.yaml"),
            "--metrics",
            str(tmp / "metrics/compare.json"),
            "--report",
            str(tmp / "reports/compare.md"),
            "--slices-plot",
            str(tmp / "plots/compare/slices.csv"),
            "--calibration-plot",
            str(tmp / "plots/compare/calibration.csv"),
            "--risk-coverage-plot",
            str(tmp / "plots/compare/risk_coverage.csv"),
            "--train",
            str(tmp / "train.jsonl"),
            "--run-log",
            str(tmp / "runs/compare.json"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_stage_writes_all_outputs(tmp_path):
    baseline, finetuned = prediction_rows(outcomes(20, 55, 30, 5))
    baseline[20]["hypothesis"] = finetuned[20]["hypothesis"] = "A person | walks."
    done = run_stage(tmp_path, baseline, finetuned)
    assert done.returncode == 0, done.stderr

    metrics = json.loads((tmp_path / "metrics/compare.json").read_text())
    assert list(metrics) == [
        "delta",
        "delta_lo",
        "delta_hi",
        "mcnemar_p",
        "neglog10_p",
        "fixed",
        "broken",
        "ece_base",
        "ece_ft",
        "brier_base",
        "brier_ft",
        "nll_base",
        "nll_ft",
        "slices_sig_bh",
        "ft_acc_cov80",
        "hyp_only_acc",
        "hard_acc_base",
        "hard_acc_ft",
        "easy_acc_base",
        "easy_acc_ft",
        "hard_mcnemar_p",
    ]
    assert (metrics["fixed"], metrics["broken"]) == (55, 30)
    assert metrics["delta"] == pytest.approx(25 / 110, abs=1e-5)
    assert metrics["mcnemar_p"] == pytest.approx(0.00884, abs=1e-4)
    assert metrics["neglog10_p"] == pytest.approx(-math.log10(metrics["mcnemar_p"]), abs=1e-3)
    assert metrics["delta_lo"] < metrics["delta"] < metrics["delta_hi"]
    assert all(isinstance(v, (int, float)) for v in metrics.values())

    with open(tmp_path / "plots/compare/slices.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["slice", "n", "stage", "accuracy"]
    assert [r["stage"] for r in rows[:2]] == ["baseline", "finetuned"]
    with open(tmp_path / "plots/compare/calibration.csv", newline="") as handle:
        bins = list(csv.DictReader(handle))
    assert list(bins[0]) == ["model", "bin", "n", "confidence", "accuracy"]
    assert {r["model"] for r in bins} == {"baseline", "finetuned"}
    assert sum(int(r["n"]) for r in bins if r["model"] == "baseline") == 110

    report = (tmp_path / "reports/compare.md").read_text()
    assert "A person \\| walks." in report
    assert "McNemar exact p" in report and "### Regressed (2 of 30)" in report
    assert "| chance: uniform guess over the three labels | 33.33 |" in report
    assert "0.600 / 0.200 / 0.200" in report  # all three probabilities of an example
    assert "## Calibration" in report
    assert report.index("## What the model learned beyond the shortcuts") < report.index("**Accuracy")
    assert "## Hypothesis-only baseline: hard and easy test items" in report and "| q (BH) |" in report
    curve = pd.read_csv(tmp_path / "plots/compare/risk_coverage.csv")
    assert list(curve.columns) == ["coverage", "threshold", "n", "accuracy", "risk"] and curve["n"].iloc[-1] == 110

    run_log = json.loads((tmp_path / "runs/compare.json").read_text())
    assert set(run_log) == {"info", "cost"} and run_log["cost"]["seconds"] >= 0
    assert not list(tmp_path.rglob("*.tmp"))


def test_stage_reports_bad_input_without_traceback(tmp_path):
    baseline, finetuned = prediction_rows(outcomes(3, 1, 1, 1))
    finetuned[0]["gold"] = "maybe"
    done = run_stage(tmp_path, baseline, finetuned)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "finetuned.csv" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "metrics/compare.json").exists()


def test_newcombe_unpaired_interval_matches_the_paper():
    """Newcombe (1998), example (a): 56/70 - 48/80 = 0.2, method 10 (Wilson hybrid) gives [0.0524, 0.3339]."""
    low, high = stats.newcombe_unpaired_ci(48, 80, 56, 70)
    assert (low, high) == (pytest.approx(0.0524, abs=1e-4), pytest.approx(0.3339, abs=1e-4))
    assert stats.newcombe_unpaired_ci(0, 0, 1, 2) is None


def test_significance_stays_readable_at_dvcs_five_decimals():
    """`dvc metrics diff` prints 5 decimals: p = 8.0e-54 reads 0.0, its -log10 reads 53.097."""
    from nli.compare.analysis import neglog10

    assert round(8.001e-54, 5) == 0.0 and neglog10(8.001e-54) == 53.097
    assert neglog10(0.05) == 1.301 and neglog10(0.0) == 323.306  # a p that underflowed stays finite
    assert math.copysign(1.0, neglog10(1.0)) == 1.0  # no "-0.0" in the table when nothing changed


def test_the_hypothesis_only_fit_runs_on_one_blas_thread(monkeypatch):
    """On a many-core host the default of one BLAS thread per core made the L-BFGS fit several times slower (and
    a fit's numbers could depend on the machine's core count); the fit runs under a one-thread limit."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_info

    from nli.compare import shortcuts

    seen = []
    fit = LogisticRegression.fit

    def recording_fit(self, *args, **kwargs):
        seen.append([pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"])
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(LogisticRegression, "fit", recording_fit)
    hyps = ["a dog runs", "nobody sleeps", "a man may sing"] * 5
    labels = ["entailment", "contradiction", "neutral"] * 5
    predicted = shortcuts.hypothesis_only(hyps, labels, ["a dog runs", "nobody sleeps"])
    assert list(predicted) == ["entailment", "contradiction"]
    assert seen and seen[0] and all(n == 1 for n in seen[0])
