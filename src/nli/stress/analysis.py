"""Stress-test results: each perturbation against the clean pairs, paired row by row."""

from __future__ import annotations

from typing import Any

import numpy as np

from nli.reporting import stats


def paired_results(gold: np.ndarray, clean: np.ndarray, perturbed: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    """Per perturbation: accuracy (clean -> perturbed) with Newcombe's paired interval of the change, the flip rate
    (share of predictions that differ from the clean one, right or wrong) and McNemar's exact p (broken vs fixed)."""
    gold, clean = np.asarray(gold), np.asarray(clean)
    out = {}
    for name, predicted in perturbed.items():
        predicted = np.asarray(predicted)
        change = stats.accuracy_change(clean == gold, predicted == gold)
        out[name] = {
            **change,
            "flip_rate": float(np.mean(predicted != clean)) if len(gold) else None,
            "flip_ci95": stats.wilson(int(np.sum(predicted != clean)), len(gold)),
            "mcnemar_p": stats.mcnemar_exact_p(change["fixed"], change["broken"]),
        }
    return out


def metrics(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """metrics/stress.json: quality numbers only, one group per perturbation."""
    first = next(iter(results.values()))
    out: dict[str, Any] = {"clean_accuracy": round(first["accuracy_before"], 5)}
    for name, r in results.items():
        out[name] = {
            "accuracy": round(r["accuracy_after"], 5),
            "accuracy_delta": round(r["delta"], 5),
            "flip_rate": round(r["flip_rate"], 5),
            "mcnemar_p": float(f"{r['mcnemar_p']:.4g}"),
        }
    return out


def flipped_examples(
    pairs: list[dict], perturbed: list[dict], gold: np.ndarray, clean: np.ndarray, predicted: np.ndarray, k: int
) -> list[dict]:
    """Up to ``k`` rows whose prediction flipped, those that broke a right answer first, in row order."""
    rows = [i for i in range(len(pairs)) if predicted[i] != clean[i]]
    rows.sort(key=lambda i: (clean[i] != gold[i], i))
    return [
        {
            "id": pairs[i]["id"],
            "premise": perturbed[i]["premise"],
            "hypothesis": perturbed[i]["hypothesis"],
            "gold": gold[i],
            "clean": clean[i],
            "perturbed": predicted[i],
        }
        for i in rows[:k]
    ]
