"""Test-set slices: named subsets defined by rules on the text (never on a model's prediction).

Every slice rule lives in ``SLICES``: a list of ``Slice(name, description,
rule)`` entries, where ``rule`` takes an ``Example`` (premise, hypothesis,
gold label and their lowercase tokens) and returns ``True`` when the example
belongs to the slice. Slices may overlap. To add one, add an entry to the
list built in ``build_slices`` (families stay together in the report), e.g.::

    Slice(
        "hyp_has_number",
        "hypothesis contains a digit",
        lambda ex: any(tok.isdigit() for tok in ex.hypothesis_tokens),
    ),

and add must-match / must-not-match cases for it to ``SLICE_CASES`` in
``tests/test_compare.py`` (a test fails for any slice without one).

Slice names end up as JSON keys and CSV values, so keep them unique and free
of commas and dots (they are CSV values in the plot data and were once JSON keys); the
tests check this. Rules see only the text and the gold label, never a
model's prediction, so both models are measured on the same rows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nli.core.labels import LABELS

NEGATION_WORDS = frozenset(
    {"no", "not", "never", "nobody", "nothing", "none", "nowhere", "neither", "nor", "n't", "cannot", "noone"}
)

# Hypothesis-only cue words per label (Gururangan et al., 2018, Table 4, SNLI): the fallback when no training pool
# is given. The compare stage ranks its own by PMI on the training pool (nli.compare.shortcuts.cue_words).
CUE_WORDS: dict[str, frozenset[str]] = {
    "entailment": frozenset({"outdoors", "least", "instrument", "outside", "animal"}),
    "neutral": frozenset({"tall", "first", "competition", "sad", "favorite"}),
    "contradiction": frozenset({"nobody", "sleeping", "no", "tv", "cat"}),
}

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_NT = re.compile(r"n't\b")
_TOKEN = re.compile(r"n't|[a-z0-9]+")


def tokenize(text: str) -> tuple[str, ...]:
    """Lowercase word tokens; "don't" -> ("do", "n't"), "dog's" -> ("dog", "s")."""
    text = _NT.sub(" n't", text.lower().translate(_APOSTROPHES))
    return tuple(_TOKEN.findall(text))


@dataclass(frozen=True)
class Example:
    """The text side of one test example, as slice rules see it."""

    premise: str
    hypothesis: str
    gold: str
    premise_tokens: tuple[str, ...] = field(init=False)
    hypothesis_tokens: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "premise_tokens", tokenize(self.premise))
        object.__setattr__(self, "hypothesis_tokens", tokenize(self.hypothesis))

    @property
    def length_ratio(self) -> float:
        """Premise tokens per hypothesis token (inf for an empty hypothesis)."""
        if not self.hypothesis_tokens:
            return math.inf
        return len(self.premise_tokens) / len(self.hypothesis_tokens)


@dataclass(frozen=True)
class Slice:
    """A named subset of the test set defined by a rule on the text."""

    name: str
    description: str
    rule: Callable[[Example], bool]


def _has_negation(tokens: Iterable[str]) -> bool:
    return not NEGATION_WORDS.isdisjoint(tokens)


def _full_overlap(ex: Example) -> bool:
    return bool(ex.hypothesis_tokens) and set(ex.hypothesis_tokens) <= set(ex.premise_tokens)


def _has_cue(ex: Example, words: frozenset[str]) -> bool:
    return not words.isdisjoint(ex.hypothesis_tokens)


def _in_range(value: float, low: float, high: float) -> bool:
    return low <= value < high


def build_slices(cue_words: Mapping[str, Iterable[str]] = CUE_WORDS) -> list[Slice]:
    """The registry, with ``cue_words`` (label -> words) defining the cue-word family."""
    cues = {label: frozenset(cue_words.get(label, ())) for label in LABELS}
    slices = [
        Slice(
            "negation:hypothesis_only",
            "hypothesis has a negation word, premise has none",
            lambda ex: _has_negation(ex.hypothesis_tokens) and not _has_negation(ex.premise_tokens),
        ),
        Slice("overlap:full", "every hypothesis token occurs in the premise", _full_overlap),
    ]
    slices += [
        Slice(
            f"overlap:full/gold={label}",
            f"full lexical overlap, gold {label}",
            lambda ex, label=label: _full_overlap(ex) and ex.gold == label,
        )
        for label in LABELS
    ]
    for name, low, high in [("<=5", 0, 6), ("6-8", 6, 9), ("9-12", 9, 13), (">=13", 13, math.inf)]:
        slices.append(
            Slice(
                f"hyp_len:{name}",
                f"hypothesis has {name} tokens",
                lambda ex, low=low, high=high: _in_range(len(ex.hypothesis_tokens), low, high),
            )
        )
    for label in LABELS:
        words = ", ".join(sorted(cues[label])) or "none"
        slices += [
            Slice(
                f"cue:{label}",
                f"hypothesis has a cue word for {label} ({words})",
                lambda ex, cue=cues[label]: _has_cue(ex, cue),
            ),
            Slice(
                f"cue:{label}/gold={label}",
                f"{label} cue word and gold {label} (cue agrees)",
                lambda ex, label=label, cue=cues[label]: _has_cue(ex, cue) and ex.gold == label,
            ),
            Slice(
                f"cue:{label}/gold!={label}",
                f"{label} cue word but gold is another label (cue misleads)",
                lambda ex, label=label, cue=cues[label]: _has_cue(ex, cue) and ex.gold != label,
            ),
        ]
    for name, low, high in [("<1", 0, 1), ("1-2", 1, 2), ("2-3", 2, 3), (">=3", 3, math.inf)]:
        slices.append(
            Slice(
                f"len_ratio:{name}",
                f"premise/hypothesis token ratio {name} (bins are [low, high))",
                lambda ex, low=low, high=high: _in_range(ex.length_ratio, low, high),
            )
        )
    return slices


SLICES: list[Slice] = build_slices()


def slice_masks(frame: pd.DataFrame, slices: Sequence[Slice] = SLICES) -> dict[str, np.ndarray]:
    """Boolean row mask per slice name, in registry order."""
    names = [s.name for s in slices]
    if len(set(names)) != len(names):
        raise ValueError(f"slice names must be unique: {sorted(n for n in set(names) if names.count(n) > 1)}")
    examples = [Example(p, h, g) for p, h, g in zip(frame["premise"], frame["hypothesis"], frame["gold"], strict=True)]
    return {s.name: np.fromiter((bool(s.rule(ex)) for ex in examples), dtype=bool, count=len(examples)) for s in slices}
