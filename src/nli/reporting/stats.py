"""Paired statistics for two models scored on the same examples.

Accuracy intervals are Wilson score intervals; the interval of a difference is either a paired
bootstrap (the headline number, large n) or Newcombe's paired score interval (method 10 of
Newcombe 1998), which stays honest on small slices where a bootstrap collapses to a point
(e.g. 14 of 14 fixed gives the bootstrap interval [+100, +100] but a score interval of about [+70, +100]).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from nli.core.labels import LABELS

LEVEL = 0.95


def paired_counts(before: np.ndarray, after: np.ndarray) -> dict[str, int]:
    """2x2 table of per-example correctness (baseline = before, fine-tuned = after)."""
    before = np.asarray(before, dtype=bool)
    after = np.asarray(after, dtype=bool)
    return {
        "both_correct": int(np.sum(before & after)),
        "fixed": int(np.sum(~before & after)),
        "broken": int(np.sum(before & ~after)),
        "both_wrong": int(np.sum(~before & ~after)),
    }


def mcnemar_exact_p(fixed: int, broken: int) -> float:
    """Two-sided exact McNemar p-value: binomial test of the discordant pairs at 1/2."""
    if fixed + broken == 0:
        return 1.0
    return float(binomtest(fixed, fixed + broken, 0.5, alternative="two-sided").pvalue)


def wilson(successes: int, n: int, level: float = LEVEL) -> tuple[float, float] | None:
    """Wilson score interval of a proportion (None when n == 0)."""
    if n == 0:
        return None
    ci = binomtest(int(successes), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def newcombe_paired_ci(counts: dict[str, int], level: float = LEVEL) -> tuple[float, float] | None:
    """Interval of accuracy(after) - accuracy(before) from the 2x2 table (Newcombe 1998, method 10)."""
    a, b, c, d = counts["both_correct"], counts["broken"], counts["fixed"], counts["both_wrong"]
    n = a + b + c + d
    if n == 0:
        return None
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b, n, level)
    l2, u2 = wilson(a + c, n, level)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    phi = (a * d - b * c) / math.sqrt(margins) if margins else 0.0
    delta = p2 - p1
    down = math.sqrt(max(0.0, (p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2))
    up = math.sqrt(max(0.0, (u2 - p2) ** 2 - 2 * phi * (u2 - p2) * (p1 - l1) + (p1 - l1) ** 2))
    return max(-1.0, delta - down), min(1.0, delta + up)


def newcombe_unpaired_ci(
    successes_a: int, n_a: int, successes_b: int, n_b: int, level: float = LEVEL
) -> tuple[float, float] | None:
    """Interval of p_b - p_a for two independent proportions (Newcombe 1998, method 10: Wilson hybrid score)."""
    if n_a == 0 or n_b == 0:
        return None
    p_a, p_b = successes_a / n_a, successes_b / n_b
    l_a, u_a = wilson(successes_a, n_a, level)
    l_b, u_b = wilson(successes_b, n_b, level)
    delta = p_b - p_a
    return delta - math.hypot(p_b - l_b, u_a - p_a), delta + math.hypot(u_b - p_b, p_a - l_a)


def bootstrap_delta_ci(
    before: np.ndarray, after: np.ndarray, n_samples: int, seed: int, level: float = LEVEL
) -> tuple[float, float] | None:
    """Percentile interval of accuracy(after) - accuracy(before) under a paired bootstrap.

    Resampling n examples with replacement draws each example's difference
    (+1 fixed, -1 broken, 0 otherwise) with probability count/n, so the count
    of each kind in a resample is multinomial; drawing those counts directly is
    the same bootstrap distribution as resampling row indices, without an
    n_samples x n index matrix. None when there are no examples.
    """
    n = len(before)
    if n == 0:
        return None
    counts = paired_counts(before, after)
    kinds = np.array([counts["fixed"], counts["broken"], n - counts["fixed"] - counts["broken"]])
    draws = np.random.default_rng(seed).multinomial(n, kinds / n, size=n_samples)
    deltas = (draws[:, 0] - draws[:, 1]) / n
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(deltas, [tail, 1.0 - tail])
    return float(low), float(high)


def accuracy_change(
    before: np.ndarray, after: np.ndarray, *, bootstrap: tuple[int, int] | None = None
) -> dict[str, Any]:
    """n, accuracies before/after with Wilson intervals, their difference and its interval.

    ``bootstrap=(n_samples, seed)`` gives a paired-bootstrap interval of the difference; without it,
    Newcombe's paired score interval. Accuracies and intervals are None when n == 0.
    """
    before = np.asarray(before, dtype=bool)
    after = np.asarray(after, dtype=bool)
    n = len(before)
    counts = paired_counts(before, after)
    if n == 0:
        ci = None
    elif bootstrap:
        ci = bootstrap_delta_ci(before, after, *bootstrap)
    else:
        ci = newcombe_paired_ci(counts)
    acc_before = float(np.mean(before)) if n else None
    acc_after = float(np.mean(after)) if n else None
    return {
        "n": n,
        "accuracy_before": acc_before,
        "accuracy_after": acc_after,
        "before_ci95": wilson(int(before.sum()), n),
        "after_ci95": wilson(int(after.sum()), n),
        "delta": None if n == 0 else acc_after - acc_before,
        "delta_ci95": ci,
        "fixed": counts["fixed"],
        "broken": counts["broken"],
    }


def cross_table(rows: pd.Series, columns: pd.Series) -> pd.DataFrame:
    """Counts of rows[i] x columns[i] over all labels, zeros included."""
    table = pd.crosstab(
        pd.Categorical(rows, categories=LABELS), pd.Categorical(columns, categories=LABELS), dropna=False
    )
    table.index = pd.Index(LABELS)
    table.columns = pd.Index(LABELS)
    return table.astype(int)


def reference_rows(gold: pd.Series) -> dict[str, tuple[str, float]]:
    """Accuracy a model with no skill gets: uniform guessing and always answering the test set's most frequent label."""
    counts = gold.value_counts()
    top = max(LABELS, key=lambda label: (int(counts.get(label, 0)), -LABELS.index(label)))
    return {
        "chance": ("uniform guess over the three labels", 1.0 / len(LABELS)),
        "majority": (f"always '{top}' (most frequent gold label of this test set)", counts.get(top, 0) / len(gold)),
    }
