"""Temperature scaling (Guo et al. 2017): one scalar T that divides the label log-probabilities before the softmax.

The evaluate stage fits T on the validation split (the fine-tuned model's label log-probabilities there) and writes
it to a small JSON file; the evaluate stage's test probabilities, ``predict`` and the packaged model use the same
file. T changes confidences, never the predicted label (argmax of logprobs / T is argmax of logprobs for T > 0).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax

from nli.core import files
from nli.core.errors import UserError

# T in [1/20, 20]: wide enough for an over- or under-confident model, narrow enough that a validation split whose
# every answer is right (NLL falling forever as T -> 0) stops at a finite value.
LOG_T_BOUNDS = (-math.log(20.0), math.log(20.0))


def nll(logprobs: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of ``labels`` under softmax(logprobs / T)."""
    scaled = log_softmax(np.asarray(logprobs, dtype=float) / temperature, axis=1)
    return float(-np.mean(scaled[np.arange(len(labels)), np.asarray(labels, dtype=int)]))


def fit(logprobs: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the validation NLL (bounded 1-D search over log T)."""
    if len(labels) == 0:
        raise UserError("temperature scaling needs a non-empty validation split")
    result = minimize_scalar(
        lambda log_t: nll(logprobs, labels, math.exp(log_t)), bounds=LOG_T_BOUNDS, method="bounded"
    )
    return round(math.exp(float(result.x)), 4)  # rounded: the file and every reader use the same number


def probabilities(logprobs: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """softmax(logprobs / T) per row: the calibrated distribution over the three labels.

    In the scores' own dtype (float32 from scoring), so T = 1 gives the same numbers, to the last bit, as the plain
    softmax the baseline and earlier runs wrote.
    """
    logprobs = np.asarray(logprobs)
    return softmax(logprobs if temperature == 1 else logprobs / np.float32(temperature), axis=1)


def write(path: str | Path, temperature: float, logprobs: np.ndarray, labels: np.ndarray) -> dict:
    record = {
        "temperature": temperature,
        "fitted_on": "validation split",
        "n": int(len(labels)),
        "nll_before": round(nll(logprobs, labels), 5),
        "nll_after": round(nll(logprobs, labels, temperature), 5),
    }
    files.write_json(path, record)
    return record


def read(path: str | Path) -> float:
    """T from a file written by :func:`write`; one-line errors for a missing or bad file."""
    path = Path(path)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))["temperature"]
    except FileNotFoundError:
        raise UserError(
            f"{path} not found; run the evaluate_finetuned stage (dvc repro) or pass --temperature none"
        ) from None
    except (ValueError, KeyError, TypeError):
        raise UserError(
            f"{path}: not a temperature file (JSON with a 'temperature' number); rerun evaluate_finetuned"
        ) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise UserError(f"{path}: temperature = {value!r}; it must be a positive number")
    return float(value)
