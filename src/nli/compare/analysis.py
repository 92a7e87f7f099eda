"""Baseline vs fine-tuned on the same test rows: what the compare stage computes and writes.

``predictions`` validates the two CSVs, ``stats`` holds the paired statistics, ``calibration`` the
probability scores, ``slices`` the text slices and ``report`` renders the markdown. This module puts
them together into one ``Comparison`` and turns it into the stage's metrics and plot data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control

from nli.compare import calibration, selective, shortcuts
from nli.compare.slices import SLICES, Slice, build_slices, slice_masks
from nli.core.labels import LABELS, LOGPROB_COLUMNS
from nli.reporting import stats

EXAMPLE_GROUPS = ("corrected", "not_corrected", "regressed")
MODELS = ("baseline", "finetuned")
DECIMALS = 5
FDR = 0.05  # Benjamini-Hochberg false discovery rate over the slices


@dataclass
class Shortcuts:
    """The hypothesis-only reference and the hard/easy test subsets it defines."""

    train_n: int
    accuracy: float
    accuracy_ci95: tuple[float, float]
    cue_words: dict[str, tuple[str, ...]]
    subsets: dict[str, dict[str, Any]]  # hard / easy -> accuracy_change(...) + mcnemar_p


@dataclass
class Comparison:
    """Everything the metrics, the plot data and the report are made from."""

    n: int
    overall: dict[str, Any]
    counts: dict[str, int]
    mcnemar_p: float
    per_label: dict[str, dict[str, Any]]
    slices: dict[str, dict[str, Any]]
    slice_descriptions: dict[str, str]
    transitions: pd.DataFrame
    confusion_baseline: pd.DataFrame
    confusion_finetuned: pd.DataFrame
    examples: dict[str, pd.DataFrame]
    calibration: dict[str, dict[str, float]]  # model -> ece, brier, nll
    reliability: pd.DataFrame  # model, bin, n, confidence, accuracy
    references: dict[str, tuple[str, float]]  # chance / majority -> (what, accuracy)
    bootstrap_samples: int
    seed: int
    shortcuts: Shortcuts | None = None
    risk_coverage: pd.DataFrame | None = None  # coverage, threshold, n, accuracy (fine-tuned)


def shortcut_analysis(
    before: np.ndarray, after: np.ndarray, gold: np.ndarray, test_hypotheses, train: pd.DataFrame, cue_words: dict
) -> Shortcuts:
    """Hypothesis-only accuracy and both models on its hard (wrong) and easy (right) test items."""
    predicted = shortcuts.hypothesis_only(train["hypothesis"], train["gold"], test_hypotheses)
    right = int(np.sum(predicted == gold))
    masks = shortcuts.subsets(gold, predicted)
    subsets = {}
    for name, mask in masks.items():
        change = stats.accuracy_change(before[mask], after[mask])
        subsets[name] = {**change, "mcnemar_p": stats.mcnemar_exact_p(change["fixed"], change["broken"])}
    return Shortcuts(
        train_n=len(train),
        accuracy=right / len(gold),
        accuracy_ci95=stats.wilson(right, len(gold)),
        cue_words=cue_words,
        subsets=subsets,
    )


def with_bh(slice_changes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each non-empty slice's exact McNemar p and its Benjamini-Hochberg adjusted q over all non-empty slices."""
    names = [name for name, ch in slice_changes.items() if ch["n"]]
    p = np.array([stats.mcnemar_exact_p(slice_changes[n]["fixed"], slice_changes[n]["broken"]) for n in names])
    q = false_discovery_control(p, method="bh") if len(p) else p
    out = {name: {**ch, "mcnemar_p": None, "q_bh": None} for name, ch in slice_changes.items()}
    for name, p_value, q_value in zip(names, p, q, strict=True):
        out[name].update(mcnemar_p=float(p_value), q_bh=float(q_value))
    return out


def select_examples(baseline: pd.DataFrame, finetuned: pd.DataFrame, per_group: int) -> dict[str, pd.DataFrame]:
    """Most confident failures per group, ties broken by id; each row keeps both models' three probabilities.

    corrected: baseline wrong, fine-tuned right, by baseline confidence;
    not_corrected: both wrong, and regressed: baseline right, fine-tuned
    wrong, by fine-tuned confidence. Highest confidence first.
    """
    columns = {name: baseline[name].to_numpy() for name in ("id", "premise", "hypothesis", "gold")}
    for model, frame in zip(MODELS, (baseline, finetuned), strict=True):
        columns[f"{model}_predicted"] = frame["predicted"].to_numpy()
        columns[f"{model}_confidence"] = frame["confidence"].to_numpy()
        columns[f"{model}_probs"] = [tuple(row) for row in calibration.probabilities(frame).tolist()]
    table = pd.DataFrame(columns)
    before = baseline["correct"].to_numpy().astype(bool)
    after = finetuned["correct"].to_numpy().astype(bool)
    groups = {
        "corrected": (~before & after, "baseline_confidence"),
        "not_corrected": (~before & ~after, "finetuned_confidence"),
        "regressed": (before & ~after, "finetuned_confidence"),
    }
    return {
        name: table[mask]
        .sort_values([key, "id"], ascending=[False, True], kind="mergesort")
        .head(per_group)
        .reset_index(drop=True)
        for name, (mask, key) in groups.items()
    }


def compare_predictions(
    baseline: pd.DataFrame,
    finetuned: pd.DataFrame,
    *,
    examples_per_group: int,
    bootstrap_samples: int,
    seed: int,
    slices: Sequence[Slice] | None = None,
    train: pd.DataFrame | None = None,
    cue_words_per_label: int = 5,
    cue_min_count: int = 10,
) -> Comparison:
    """Compare two validated, paired prediction frames.

    With ``train`` (the training pool's ``hypothesis`` and ``gold`` columns) the hypothesis-only baseline and its
    hard/easy subsets are computed, and the cue-word slices use the pool's own PMI cue words (unless ``slices``
    is given); without it the slices' fallback list is used and there is no shortcut analysis.
    """
    cue_words = None
    if train is not None:
        cue_words = shortcuts.cue_words(train["hypothesis"], train["gold"], cue_words_per_label, cue_min_count)
    if slices is None:
        slices = build_slices(cue_words) if cue_words is not None else SLICES
    before = baseline["correct"].to_numpy().astype(bool)
    after = finetuned["correct"].to_numpy().astype(bool)
    counts = stats.paired_counts(before, after)

    def change(mask: np.ndarray) -> dict[str, Any]:
        return stats.accuracy_change(before[mask], after[mask])

    gold = baseline["gold"].to_numpy()
    frames = dict(zip(MODELS, (baseline, finetuned), strict=True))
    scores = {model: calibration.summary(frame) for model, frame in frames.items()}
    if all(column in finetuned.columns for column in LOGPROB_COLUMNS):
        # the fine-tuned probabilities before temperature scaling, from its raw label log-probabilities
        scores["finetuned_uncalibrated"] = calibration.summary(calibration.from_logprobs(finetuned))
    reliability = pd.concat(
        [calibration.reliability(frame).assign(model=model) for model, frame in frames.items()], ignore_index=True
    )
    return Comparison(
        n=len(baseline),
        overall=stats.accuracy_change(before, after, bootstrap=(bootstrap_samples, seed)),
        counts=counts,
        mcnemar_p=stats.mcnemar_exact_p(counts["fixed"], counts["broken"]),
        per_label={label: change(gold == label) for label in LABELS},
        slices=with_bh({name: change(mask) for name, mask in slice_masks(baseline, slices).items()}),
        slice_descriptions={s.name: s.description for s in slices},
        transitions=stats.cross_table(baseline["predicted"], finetuned["predicted"]),
        confusion_baseline=stats.cross_table(baseline["gold"], baseline["predicted"]),
        confusion_finetuned=stats.cross_table(finetuned["gold"], finetuned["predicted"]),
        examples=select_examples(baseline, finetuned, examples_per_group),
        calibration=scores,
        reliability=reliability[["model", "bin", "n", "confidence", "accuracy"]],
        references=stats.reference_rows(baseline["gold"]),
        bootstrap_samples=bootstrap_samples,
        seed=seed,
        shortcuts=None
        if train is None
        else shortcut_analysis(before, after, gold, baseline["hypothesis"].tolist(), train, cue_words),
        risk_coverage=selective.risk_coverage(finetuned["confidence"].to_numpy(), after),
    )


def _round(value: float) -> float:
    return round(float(value), DECIMALS)


def metrics_dict(result: Comparison) -> dict[str, Any]:
    """metrics/compare.json: the headline quality numbers only (the rest is report and plot data)."""
    overall = result.overall
    pairs = (("base", result.calibration["baseline"]), ("ft", result.calibration["finetuned"]))
    low, high = overall["delta_ci95"]
    # Names short and unique across metrics files (base_acc, ft_acc, val_acc, delta, ...), so `dvc exp show` and
    # `dvc metrics diff` columns stay narrow and unambiguous.
    out = {
        "delta": _round(overall["delta"]),
        "delta_lo": _round(low),
        "delta_hi": _round(high),
        # p-values can be tiny: keep 4 significant digits instead of fixed decimals.
        "mcnemar_p": float(f"{result.mcnemar_p:.4g}"),
        # DVC prints metrics at 5 decimals, where any p under 5e-6 reads 0.0: -log10 p stays readable (53.1, 2.05).
        "neglog10_p": neglog10(result.mcnemar_p),
        "fixed": result.counts["fixed"],
        "broken": result.counts["broken"],
        **{f"{key}_{when}": _round(scores[key]) for key in ("ece", "brier", "nll") for when, scores in pairs},
    }
    raw = result.calibration.get("finetuned_uncalibrated")
    if raw:  # temperature scaling's effect: the fine-tuned scores before it (the *_ft ones are after it)
        out.update({f"{key}_ft_raw": _round(raw[key]) for key in ("ece", "brier", "nll")})
    out["slices_sig_bh"] = sum(1 for ch in result.slices.values() if ch["q_bh"] is not None and ch["q_bh"] < FDR)
    if result.risk_coverage is not None and len(result.risk_coverage):
        out["ft_acc_cov80"] = _round(selective.accuracy_at(result.risk_coverage, 0.8))
    if result.shortcuts:
        sc = result.shortcuts
        out["hyp_only_acc"] = _round(sc.accuracy)
        for name, ch in sc.subsets.items():
            if ch["n"]:
                out[f"{name}_acc_base"] = _round(ch["accuracy_before"])
                out[f"{name}_acc_ft"] = _round(ch["accuracy_after"])
        out["hard_mcnemar_p"] = float(f"{sc.subsets['hard']['mcnemar_p']:.4g}")
    return out


def neglog10(p: float) -> float:
    """-log10 p rounded to 3 decimals; a p that underflowed to 0 is capped at the smallest double's 323.3."""
    return max(0.0, round(-math.log10(max(float(p), 5e-324)), 3))  # p = 1 gives 0.0, not -0.0


def slice_plot_rows(result: Comparison) -> pd.DataFrame:
    """Long-format plot data for non-empty slices: slice, n, stage (baseline|finetuned), accuracy."""
    rows = [
        {"slice": name, "n": change["n"], "stage": stage, "accuracy": _round(change[key])}
        for name, change in result.slices.items()
        if change["n"]
        for stage, key in (("baseline", "accuracy_before"), ("finetuned", "accuracy_after"))
    ]
    return pd.DataFrame(rows, columns=["slice", "n", "stage", "accuracy"])


def risk_coverage_plot_rows(result: Comparison) -> pd.DataFrame:
    """Risk-coverage curve of the fine-tuned model: coverage, confidence threshold, n kept, accuracy, risk."""
    table = result.risk_coverage.copy()
    for column in ("coverage", "threshold", "accuracy", "risk"):
        table[column] = table[column].map(_round)
    return table


def calibration_plot_rows(result: Comparison) -> pd.DataFrame:
    """Reliability-diagram data: model, bin, n, confidence (mean), accuracy; empty bins left out."""
    table = result.reliability.copy()
    for column in ("confidence", "accuracy"):
        table[column] = table[column].map(_round)
    return table
