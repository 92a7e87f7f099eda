"""Label-preserving perturbations of NLI pairs (Naik et al. 2018, "Stress Test Evaluation for NLI").

Each perturbation leaves the gold label as it was: appending a tautology or a true negated statement to the
hypothesis adds nothing the premise must entail or contradict; lengthening the premise with tautologies adds no
information; swapping two adjacent letters in one hypothesis word is a typo a reader reads through. A model that
changes its answer under them is reacting to surface features (word overlap, negation words, length, spelling).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

TAUTOLOGY = "and true is true"
NEGATION = "and false is not true"
LENGTH_REPEATS = 5  # Naik et al. append the tautology five times to the premise


def _append(text: str, clause: str) -> str:
    return f"{text.rstrip().rstrip('.!?').rstrip()} {clause}."


def tautology(pair: dict, rng: np.random.Generator) -> dict:
    return {**pair, "hypothesis": _append(pair["hypothesis"], TAUTOLOGY)}


def negation(pair: dict, rng: np.random.Generator) -> dict:
    return {**pair, "hypothesis": _append(pair["hypothesis"], NEGATION)}


def length_mismatch(pair: dict, rng: np.random.Generator) -> dict:
    return {**pair, "premise": _append(pair["premise"], " ".join([TAUTOLOGY] * LENGTH_REPEATS))}


def spelling(pair: dict, rng: np.random.Generator) -> dict:
    """Swap two adjacent letters inside one hypothesis word of 4+ letters (first and last letters stay)."""
    words = pair["hypothesis"].split(" ")
    candidates = [i for i, w in enumerate(words) if sum(c.isalpha() for c in w) >= 4 and w.isalpha()]
    if not candidates:
        return dict(pair)
    i = int(rng.choice(candidates))
    word = words[i]
    j = int(rng.integers(1, len(word) - 2))  # swap letters j and j + 1, both inside the word
    words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    return {**pair, "hypothesis": " ".join(words)}


PERTURBATIONS: dict[str, Callable[[dict, np.random.Generator], dict]] = {
    "tautology": tautology,
    "negation": negation,
    "length_mismatch": length_mismatch,
    "spelling": spelling,
}
DESCRIPTIONS = {
    "tautology": f'hypothesis + "{TAUTOLOGY}"',
    "negation": f'hypothesis + "{NEGATION}"',
    "length_mismatch": f'premise + "{TAUTOLOGY}" x {LENGTH_REPEATS}',
    "spelling": "two adjacent letters swapped in one hypothesis word of 4+ letters",
}


def sample(pairs: Sequence[dict], n: int, seed: int) -> list[dict]:
    """``n`` pairs drawn without replacement with ``seed`` (all when there are fewer), in the split's order."""
    if n >= len(pairs):
        return list(pairs)
    chosen = np.sort(np.random.default_rng(seed).choice(len(pairs), size=n, replace=False))
    return [pairs[i] for i in chosen]


def perturb(pairs: Sequence[dict], name: str, seed: int) -> list[dict]:
    """Every pair under perturbation ``name``; random choices come from (seed, row) so a row's typo is stable."""
    fn = PERTURBATIONS[name]
    return [fn(pair, np.random.default_rng([seed, i])) for i, pair in enumerate(pairs)]
