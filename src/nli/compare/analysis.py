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

from nli.compare import calibration, stats
from nli.compare.slices import SLICES, Slice, slice_masks
from nli.core.labels import LABELS

EXAMPLE_GROUPS = ("corrected", "not_corrected", "regressed")
MODELS = ("baseline", "finetuned")
DECIMALS = 5


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
    slices: Sequence[Slice] = SLICES,
) -> Comparison:
    """Compare two validated, paired prediction frames."""
    before = baseline["correct"].to_numpy().astype(bool)
    after = finetuned["correct"].to_numpy().astype(bool)
    counts = stats.paired_counts(before, after)

    def change(mask: np.ndarray) -> dict[str, Any]:
        return stats.accuracy_change(before[mask], after[mask])

    gold = baseline["gold"].to_numpy()
    frames = dict(zip(MODELS, (baseline, finetuned), strict=True))
    reliability = pd.concat(
        [calibration.reliability(frame).assign(model=model) for model, frame in frames.items()], ignore_index=True
    )
    return Comparison(
        n=len(baseline),
        overall=stats.accuracy_change(before, after, bootstrap=(bootstrap_samples, seed)),
        counts=counts,
        mcnemar_p=stats.mcnemar_exact_p(counts["fixed"], counts["broken"]),
        per_label={label: change(gold == label) for label in LABELS},
        slices={name: change(mask) for name, mask in slice_masks(baseline, slices).items()},
        slice_descriptions={s.name: s.description for s in slices},
        transitions=stats.cross_table(baseline["predicted"], finetuned["predicted"]),
        confusion_baseline=stats.cross_table(baseline["gold"], baseline["predicted"]),
        confusion_finetuned=stats.cross_table(finetuned["gold"], finetuned["predicted"]),
        examples=select_examples(baseline, finetuned, examples_per_group),
        calibration={model: calibration.summary(frame) for model, frame in frames.items()},
        reliability=reliability[["model", "bin", "n", "confidence", "accuracy"]],
        references=stats.reference_rows(baseline["gold"]),
        bootstrap_samples=bootstrap_samples,
        seed=seed,
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
    return {
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


def calibration_plot_rows(result: Comparison) -> pd.DataFrame:
    """Reliability-diagram data: model, bin, n, confidence (mean), accuracy; empty bins left out."""
    table = result.reliability.copy()
    for column in ("confidence", "accuracy"):
        table[column] = table[column].map(_round)
    return table
