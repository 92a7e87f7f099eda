"""Selective prediction: the accuracy a model keeps when it abstains below a confidence (risk-coverage curve)."""

from __future__ import annotations

import numpy as np
import pandas as pd

COVERAGES = tuple(round(0.05 * k, 2) for k in range(1, 21))


def risk_coverage(confidence: np.ndarray, correct: np.ndarray, coverages=COVERAGES) -> pd.DataFrame:
    """Per coverage c: answer only the ceil(c * n) most confident items; their accuracy and risk (1 - accuracy).

    Ties in confidence are kept in row order (a stable sort), so the curve is the same on every run; ``threshold``
    is the lowest confidence still answered.
    """
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    n = len(confidence)
    rows = []
    if n:
        order = np.argsort(-confidence, kind="stable")
        hits = np.cumsum(correct[order])
        for coverage in coverages:
            kept = max(1, int(np.ceil(coverage * n - 1e-9)))
            accuracy = hits[kept - 1] / kept
            rows.append(
                {
                    "coverage": coverage,
                    "threshold": float(confidence[order][kept - 1]),
                    "n": kept,
                    "accuracy": float(accuracy),
                    "risk": float(1 - accuracy),
                }
            )
    return pd.DataFrame(rows, columns=["coverage", "threshold", "n", "accuracy", "risk"])


def accuracy_at(curve: pd.DataFrame, coverage: float) -> float:
    """Accuracy on the most confident ``coverage`` share of the items (a row of the curve)."""
    row = curve[np.isclose(curve["coverage"], coverage)]
    return float(row["accuracy"].iloc[0])
