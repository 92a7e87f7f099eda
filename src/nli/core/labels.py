"""The label schema and the prediction-file columns, declared once for every stage and script."""

from __future__ import annotations

LABELS: tuple[str, ...] = ("entailment", "neutral", "contradiction")

PROBABILITY_COLUMNS: tuple[str, ...] = tuple(f"p_{label}" for label in LABELS)
LOGPROB_COLUMNS: tuple[str, ...] = tuple(f"logprob_{label}" for label in LABELS)

# What evaluate writes and compare reads (in this order); evaluate may add logprob_* columns after them.
PREDICTION_COLUMNS: tuple[str, ...] = (
    "id",
    "premise",
    "hypothesis",
    "gold",
    "predicted",
    "correct",
    *PROBABILITY_COLUMNS,
    "confidence",
)
