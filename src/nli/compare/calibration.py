"""Calibration of the label distribution a model puts on the three verbalizer tokens.

From the prediction CSV's probabilities: expected calibration error (top-label, equal-width
bins), multi-class Brier score (sum over labels, 0 = perfect, 2 = worst), and negative
log-likelihood of the gold label (sklearn's ``log_loss``), plus the reliability-diagram bins.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import softmax
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, log_loss

from nli.core.labels import LABELS, LOGPROB_COLUMNS, PROBABILITY_COLUMNS

BINS = 10
# The CSV keeps 5 decimals, so a stored 0 means "below 5e-6": clip there instead of at log(0).
PROBABILITY_FLOOR = 5e-6


def probabilities(frame: pd.DataFrame) -> np.ndarray:
    """The n x 3 label distribution, floored and renormalized (rows sum to 1)."""
    probs = np.clip(frame[list(PROBABILITY_COLUMNS)].to_numpy(dtype=float), PROBABILITY_FLOOR, None)
    return probs / probs.sum(axis=1, keepdims=True)


def gold_index(frame: pd.DataFrame) -> np.ndarray:
    return frame["gold"].map({label: i for i, label in enumerate(LABELS)}).to_numpy(dtype=int)


def brier(frame: pd.DataFrame) -> float:
    """Multi-class Brier score: the sum over labels of each label's one-vs-rest Brier score."""
    probs, gold = probabilities(frame), gold_index(frame)
    return float(sum(brier_score_loss(gold == k, probs[:, k]) for k in range(len(LABELS))))


def from_logprobs(frame: pd.DataFrame, temperature: float = 1.0) -> pd.DataFrame:
    """A copy of ``frame`` whose probabilities and confidence come from its raw label log-probabilities / T."""
    probs = softmax(frame[list(LOGPROB_COLUMNS)].to_numpy(dtype=float) / temperature, axis=1)
    out = frame.copy()
    for i, column in enumerate(PROBABILITY_COLUMNS):
        out[column] = probs[:, i]
    out["confidence"] = probs.max(axis=1)
    return out


def nll(frame: pd.DataFrame) -> float:
    return float(log_loss(gold_index(frame), probabilities(frame), labels=list(range(len(LABELS)))))


def reliability(frame: pd.DataFrame, bins: int = BINS) -> pd.DataFrame:
    """Per non-empty confidence bin (lower, upper]: n, mean confidence, accuracy (scikit-learn's calibration_curve)."""
    confidence = frame["confidence"].to_numpy(dtype=float)
    correct = frame["correct"].to_numpy(dtype=int)
    accuracy, mean_confidence = calibration_curve(correct, confidence, n_bins=bins, strategy="uniform")
    # the counts of the same bins: calibration_curve's own rule (searchsorted on the inner edges) returns no counts
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], confidence), minlength=bins)
    filled = np.flatnonzero(counts)
    return pd.DataFrame(
        {
            "bin": [f"{b / bins:.1f}-{(b + 1) / bins:.1f}" for b in filled],
            "n": counts[filled].astype(int),
            "confidence": mean_confidence.astype(float),
            "accuracy": accuracy.astype(float),
        },
        columns=["bin", "n", "confidence", "accuracy"],
    )


def ece(frame: pd.DataFrame, bins: int = BINS) -> float:
    """Expected calibration error: bin-size-weighted |accuracy - confidence| over the reliability bins."""
    table = reliability(frame, bins)
    return float(np.sum(table["n"] / len(frame) * (table["accuracy"] - table["confidence"]).abs()))


def summary(frame: pd.DataFrame) -> dict[str, float]:
    return {"ece": ece(frame), "brier": brier(frame), "nll": nll(frame)}
