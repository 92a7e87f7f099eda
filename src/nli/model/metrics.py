"""Classification metrics and resource figures, as plain JSON-ready dicts."""

from __future__ import annotations

import resource
import sys

import numpy as np
import torch

from nli.core.labels import LABELS


def classification(gold: np.ndarray, pred: np.ndarray) -> dict:
    """Accuracy, macro F1 and per-class precision/recall/F1/support (rounded for readable diffs)."""
    # imported here, not at the top: the train and stress stages import this module for peak_memory alone, and
    # sklearn's import is a noticeable part of a stage's start-up
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    labels = list(range(len(LABELS)))
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    return {
        "accuracy": round(float(accuracy_score(gold, pred)), 4),
        "macro_f1": round(float(f1_score(gold, pred, labels=labels, average="macro", zero_division=0)), 4),
        "n": int(len(gold)),
        "per_class": {
            name: {
                "precision": round(float(p[i]), 4),
                "recall": round(float(r[i]), 4),
                "f1": round(float(f[i]), 4),
                "support": int(s[i]),
            }
            for i, name in enumerate(LABELS)
        },
        "predicted_counts": {name: int((pred == i).sum()) for i, name in enumerate(LABELS)},
    }


def reset_peak_memory() -> None:
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def peak_memory() -> dict:
    """Peak CUDA memory allocated/reserved (GB, as the report measured) and the process's peak RSS."""
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    rss_gb = rss_kb / (1024**3 if sys.platform == "darwin" else 1024**2)
    out = {"peak_cpu_rss_gb": round(rss_gb, 3)}
    if torch.cuda.is_available():
        out["peak_cuda_allocated_gb"] = round(torch.cuda.max_memory_allocated() / 1024**3, 3)
        out["peak_cuda_reserved_gb"] = round(torch.cuda.max_memory_reserved() / 1024**3, 3)
    return out
