"""Failure comparison between baseline and fine-tuned NLI predictions.

Both prediction files hold the same test rows in the same order (see
``REQUIRED_COLUMNS``). This module validates them, compares the two models
pair by pair (2x2 table, McNemar's exact test, paired bootstrap interval of
the accuracy difference), breaks accuracy down by gold label and by text
slices, picks example failures, and renders the metrics, the plot data and
a markdown report. ``stages/compare.py`` wires these steps together.

Slices
------
Every slice rule lives in ``SLICES``: a list of ``Slice(name, description,
rule)`` entries, where ``rule`` takes an ``Example`` (premise, hypothesis,
gold label and their lowercase tokens) and returns ``True`` when the example
belongs to the slice. Slices may overlap. To add one, add an entry to the
list built in ``_build_slices`` (families stay together in the report), e.g.::

    Slice(
        "hyp_has_number",
        "hypothesis contains a digit",
        lambda ex: any(tok.isdigit() for tok in ex.hypothesis_tokens),
    ),

and add must-match / must-not-match cases for it to ``SLICE_CASES`` in
``tests/test_compare.py`` (a test fails for any slice without one).

Slice names end up as JSON keys and CSV values, so keep them unique and free
of commas and dots (``dvc metrics`` flattens nested keys with dots); the
tests check this. Rules see only the text and the gold label, never a
model's prediction, so both models are measured on the same rows.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from .errors import UserError
from .io import atomic_path

# Same names and order as nli.prompts.LABELS; kept here so this module needs no model code.
LABELS: tuple[str, ...] = ("entailment", "neutral", "contradiction")

TEXT_COLUMNS = ("id", "premise", "hypothesis", "gold", "predicted")
PROBABILITY_COLUMNS = ("p_entailment", "p_neutral", "p_contradiction", "confidence")
REQUIRED_COLUMNS = (*TEXT_COLUMNS, "correct", *PROBABILITY_COLUMNS)

EXAMPLE_GROUPS = ("corrected", "not_corrected", "regressed")


class CompareInputError(UserError):
    """A prediction file the comparison cannot use; the message names the file, the place and the fix."""

    def __init__(self, path: str | os.PathLike[str], problem: str, fix: str) -> None:
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f"{self.path}: {problem}. Fix: {fix}")


# --------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------


def load_predictions(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read one prediction CSV and check its columns and values.

    Text is read verbatim (no NA guessing: a hypothesis "None" stays a string).
    Returns a frame with ``correct`` as int and the probabilities as float.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise CompareInputError(path, "file not found", "run the evaluation stage that writes it (dvc repro)") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise CompareInputError(
            path, f"not a readable CSV ({err})", "regenerate it with the evaluation stage"
        ) from None

    missing = [col for col in REQUIRED_COLUMNS if col not in frame.columns]
    if missing:
        raise CompareInputError(
            path,
            f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, frame.columns))}",
            f"write all of {', '.join(REQUIRED_COLUMNS)}",
        )
    if frame.empty:
        raise CompareInputError(path, "has a header but no rows", "regenerate it")

    def fail(row: int, column: str, problem: str, fix: str) -> CompareInputError:
        return CompareInputError(
            path, f"data row {row + 1} (id {frame['id'].iat[row]!r}), column {column!r}: {problem}", fix
        )

    blank = np.flatnonzero(frame["id"].str.strip() == "")
    if blank.size:
        raise fail(int(blank[0]), "id", "empty id", "give every row its example id")
    duplicated = np.flatnonzero(frame["id"].duplicated())
    if duplicated.size:
        raise fail(int(duplicated[0]), "id", "duplicate id", "write each example once")

    for column in ("gold", "predicted"):
        bad = np.flatnonzero(~frame[column].isin(LABELS))
        if bad.size:
            value = frame[column].iat[bad[0]]
            raise fail(
                int(bad[0]),
                column,
                f"label {value!r} is not one of {', '.join(LABELS)}",
                "map labels to these names and drop examples without a gold label",
            )

    bad = np.flatnonzero(~frame["correct"].str.strip().isin(["0", "1"]))
    if bad.size:
        raise fail(int(bad[0]), "correct", f"{frame['correct'].iat[bad[0]]!r} is not 0 or 1", "write 0 or 1")
    frame["correct"] = frame["correct"].astype(int)
    inconsistent = np.flatnonzero(frame["correct"].to_numpy() != (frame["gold"] == frame["predicted"]).to_numpy())
    if inconsistent.size:
        raise fail(
            int(inconsistent[0]),
            "correct",
            "disagrees with gold == predicted",
            "write correct = int(gold == predicted)",
        )

    for column in PROBABILITY_COLUMNS:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = np.flatnonzero(~values.between(0.0, 1.0).to_numpy())
        if bad.size:
            raise fail(
                int(bad[0]),
                column,
                f"{frame[column].iat[bad[0]]!r} is not a probability in [0, 1]",
                "write the softmax probability as a number",
            )
        frame[column] = values.astype(float)
    return frame


def check_paired(
    baseline: pd.DataFrame,
    finetuned: pd.DataFrame,
    baseline_path: str | os.PathLike[str],
    finetuned_path: str | os.PathLike[str],
) -> None:
    """Raise ``CompareInputError`` unless both files hold the same examples in the same order."""
    fix = "evaluate both models on the same test split, keeping the split's row order"
    if len(baseline) != len(finetuned):
        raise CompareInputError(
            finetuned_path,
            f"has {len(finetuned)} rows but {baseline_path} has {len(baseline)}",
            fix,
        )
    for column in ("id", "gold", "premise", "hypothesis"):
        differ = np.flatnonzero(baseline[column].to_numpy() != finetuned[column].to_numpy())
        if differ.size:
            row = int(differ[0])
            raise CompareInputError(
                finetuned_path,
                f"data row {row + 1}, column {column!r}: {finetuned[column].iat[row]!r} "
                f"but {baseline_path} has {baseline[column].iat[row]!r}",
                fix,
            )


# --------------------------------------------------------------------------
# Tokens and slices
# --------------------------------------------------------------------------

NEGATION_WORDS = frozenset(
    {"no", "not", "never", "nobody", "nothing", "none", "nowhere", "neither", "nor", "n't", "cannot", "noone"}
)

# Hypothesis-only cue words per label (Gururangan et al., 2018, Table 4, SNLI).
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


def _has_cue(ex: Example, label: str) -> bool:
    return not CUE_WORDS[label].isdisjoint(ex.hypothesis_tokens)


def _in_range(value: float, low: float, high: float) -> bool:
    return low <= value < high


def _build_slices() -> list[Slice]:
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
        words = ", ".join(sorted(CUE_WORDS[label]))
        slices += [
            Slice(
                f"cue:{label}",
                f"hypothesis has a cue word for {label} ({words})",
                lambda ex, label=label: _has_cue(ex, label),
            ),
            Slice(
                f"cue:{label}/gold={label}",
                f"{label} cue word and gold {label} (cue agrees)",
                lambda ex, label=label: _has_cue(ex, label) and ex.gold == label,
            ),
            Slice(
                f"cue:{label}/gold!={label}",
                f"{label} cue word but gold is another label (cue misleads)",
                lambda ex, label=label: _has_cue(ex, label) and ex.gold != label,
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


SLICES: list[Slice] = _build_slices()


def slice_masks(frame: pd.DataFrame, slices: Sequence[Slice] = SLICES) -> dict[str, np.ndarray]:
    """Boolean row mask per slice name, in registry order."""
    names = [s.name for s in slices]
    if len(set(names)) != len(names):
        raise ValueError(f"slice names must be unique: {sorted(n for n in set(names) if names.count(n) > 1)}")
    examples = [Example(p, h, g) for p, h, g in zip(frame["premise"], frame["hypothesis"], frame["gold"], strict=True)]
    return {s.name: np.fromiter((bool(s.rule(ex)) for ex in examples), dtype=bool, count=len(examples)) for s in slices}


# --------------------------------------------------------------------------
# Paired statistics
# --------------------------------------------------------------------------


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


def bootstrap_delta_ci(
    before: np.ndarray, after: np.ndarray, n_samples: int, seed: int, level: float = 0.95
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


def accuracy_change(before: np.ndarray, after: np.ndarray, n_samples: int, seed: int) -> dict[str, Any]:
    """n, accuracies before/after, their difference and its bootstrap CI (None when n == 0)."""
    n = len(before)
    if n == 0:
        return {"n": 0, "accuracy_before": None, "accuracy_after": None, "delta": None, "delta_ci95": None}
    acc_before = float(np.mean(before))
    acc_after = float(np.mean(after))
    ci = bootstrap_delta_ci(before, after, n_samples, seed)
    return {
        "n": n,
        "accuracy_before": acc_before,
        "accuracy_after": acc_after,
        "delta": acc_after - acc_before,
        "delta_ci95": list(ci) if ci else None,
    }


def cross_table(rows: pd.Series, columns: pd.Series) -> pd.DataFrame:
    """Counts of rows[i] x columns[i] over all labels, zeros included."""
    table = pd.crosstab(
        pd.Categorical(rows, categories=LABELS), pd.Categorical(columns, categories=LABELS), dropna=False
    )
    table.index = pd.Index(LABELS)
    table.columns = pd.Index(LABELS)
    return table.astype(int)


# --------------------------------------------------------------------------
# Examples
# --------------------------------------------------------------------------


def select_examples(baseline: pd.DataFrame, finetuned: pd.DataFrame, per_group: int) -> dict[str, pd.DataFrame]:
    """Most confident failures per group, ties broken by id.

    corrected: baseline wrong, fine-tuned right, by baseline confidence;
    not_corrected: both wrong, and regressed: baseline right, fine-tuned
    wrong, by fine-tuned confidence. Highest confidence first.
    """
    table = pd.DataFrame(
        {
            "id": baseline["id"].to_numpy(),
            "premise": baseline["premise"].to_numpy(),
            "hypothesis": baseline["hypothesis"].to_numpy(),
            "gold": baseline["gold"].to_numpy(),
            "baseline_predicted": baseline["predicted"].to_numpy(),
            "baseline_confidence": baseline["confidence"].to_numpy(),
            "finetuned_predicted": finetuned["predicted"].to_numpy(),
            "finetuned_confidence": finetuned["confidence"].to_numpy(),
        }
    )
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


# --------------------------------------------------------------------------
# The comparison
# --------------------------------------------------------------------------


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
    bootstrap_samples: int
    seed: int


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
    counts = paired_counts(before, after)

    def change(mask: np.ndarray) -> dict[str, Any]:
        return accuracy_change(before[mask], after[mask], bootstrap_samples, seed)

    gold = baseline["gold"].to_numpy()
    return Comparison(
        n=len(baseline),
        overall=accuracy_change(before, after, bootstrap_samples, seed),
        counts=counts,
        mcnemar_p=mcnemar_exact_p(counts["fixed"], counts["broken"]),
        per_label={label: change(gold == label) for label in LABELS},
        slices={name: change(mask) for name, mask in slice_masks(baseline, slices).items()},
        slice_descriptions={s.name: s.description for s in slices},
        transitions=cross_table(baseline["predicted"], finetuned["predicted"]),
        confusion_baseline=cross_table(baseline["gold"], baseline["predicted"]),
        confusion_finetuned=cross_table(finetuned["gold"], finetuned["predicted"]),
        examples=select_examples(baseline, finetuned, examples_per_group),
        bootstrap_samples=bootstrap_samples,
        seed=seed,
    )


# --------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------

DECIMALS = 5


def _round(value: Any) -> Any:
    """Round floats (also inside lists/dicts) to DECIMALS places for readable diffs."""
    if isinstance(value, float):
        return round(value, DECIMALS)
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def metrics_dict(result: Comparison) -> dict[str, Any]:
    """The small, diffable metrics document (metrics/compare.json)."""
    overall = result.overall
    return {
        "n": result.n,
        "accuracy_before": _round(overall["accuracy_before"]),
        "accuracy_after": _round(overall["accuracy_after"]),
        "accuracy_delta": _round(overall["delta"]),
        "accuracy_delta_ci95": _round(overall["delta_ci95"]),
        # p-values can be tiny: keep 4 significant digits instead of fixed decimals.
        "mcnemar_p": float(f"{result.mcnemar_p:.4g}"),
        **result.counts,
        "per_label": {label: _round(c) for label, c in result.per_label.items()},
        "slices": {name: _round(c) for name, c in result.slices.items()},
    }


def slice_plot_rows(result: Comparison) -> pd.DataFrame:
    """Long-format plot data: slice, n, stage (baseline|finetuned), accuracy (empty when n == 0)."""
    rows = []
    for name, change in result.slices.items():
        for stage, key in (("baseline", "accuracy_before"), ("finetuned", "accuracy_after")):
            rows.append({"slice": name, "n": change["n"], "stage": stage, "accuracy": _round(change[key])})
    return pd.DataFrame(rows, columns=["slice", "n", "stage", "accuracy"])


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}"


def _pp(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:+.2f}"


def _ci(ci: Sequence[float] | None) -> str:
    return "n/a" if ci is None else f"[{100 * ci[0]:+.2f}, {100 * ci[1]:+.2f}]"


def _p_value(p: float) -> str:
    """'= 0.0088', or '< 1e-300' where the p-value underflowed to 0."""
    return "< 1e-300" if p == 0 else f"= {p:.3g}"


def _cell(text: Any) -> str:
    """Make a value safe inside a markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _matrix(table: pd.DataFrame, corner: str) -> str:
    return _table([corner, *table.columns], [[label, *table.loc[label].tolist()] for label in table.index])


def _change_cells(ch: dict) -> list:
    """n, accuracy before/after, delta and its interval, formatted for a markdown row."""
    return [ch["n"], _pct(ch["accuracy_before"]), _pct(ch["accuracy_after"]), _pp(ch["delta"]), _ci(ch["delta_ci95"])]


def _significant(ci: Sequence[float] | None) -> str:
    if ci is None:
        return ""
    return "yes" if ci[0] > 0 or ci[1] < 0 else ""


def render_report(result: Comparison) -> str:
    """The human-readable markdown report (reports/compare.md)."""
    o, c = result.overall, result.counts
    parts = [
        "# Baseline vs fine-tuned: failure comparison",
        "",
        f"**Accuracy {_pct(o['accuracy_before'])}% → {_pct(o['accuracy_after'])}%, "
        f"Δ {_pp(o['delta'])} pp (95% CI {_ci(o['delta_ci95'])} pp); "
        f"McNemar exact p {_p_value(result.mcnemar_p)}** on n = {result.n} test examples "
        f"({c['fixed']} fixed, {c['broken']} broken).",
        "",
        f"Intervals: paired bootstrap percentile intervals, {result.bootstrap_samples} resamples, "
        f"seed {result.seed}. Accuracies in %, differences in percentage points (pp).",
        "",
        "## Paired outcomes",
        "",
        _table(
            ["", "fine-tuned correct", "fine-tuned wrong"],
            [
                ["baseline correct", c["both_correct"], f"{c['broken']} (broken)"],
                ["baseline wrong", f"{c['fixed']} (fixed)", c["both_wrong"]],
            ],
        ),
        "",
        "## Accuracy by gold label",
        "",
        _table(
            ["gold", "n", "baseline", "fine-tuned", "Δ pp", "95% CI"],
            [[label, *_change_cells(ch)] for label, ch in result.per_label.items()],
        ),
        "",
        "## Prediction changes",
        "",
        "Rows: baseline prediction; columns: fine-tuned prediction.",
        "",
        _matrix(result.transitions, "baseline ↓ fine-tuned →"),
        "",
        "## Confusion matrices",
        "",
        "Rows: gold label; columns: predicted label.",
        "",
        "Baseline:",
        "",
        _matrix(result.confusion_baseline, "gold ↓ predicted →"),
        "",
        "Fine-tuned:",
        "",
        _matrix(result.confusion_finetuned, "gold ↓ predicted →"),
        "",
        "## Slices",
        "",
        "Slices are computed from the text alone and may overlap; grouped by family in registry order. "
        "'CI excludes 0' marks differences whose interval does not contain zero "
        "(no correction for the number of slices).",
        "",
        _table(
            ["slice", "rule", "n", "baseline", "fine-tuned", "Δ pp", "95% CI", "CI excludes 0"],
            [
                [name, result.slice_descriptions.get(name, ""), *_change_cells(ch), _significant(ch["delta_ci95"])]
                for name, ch in result.slices.items()
            ],
        ),
        "",
        "## Examples",
    ]
    headings = {
        "corrected": (
            "Corrected",
            "baseline wrong, fine-tuned right; most confident baseline errors first",
            c["fixed"],
        ),
        "not_corrected": ("Not corrected", "both wrong; most confident fine-tuned errors first", c["both_wrong"]),
        "regressed": (
            "Regressed",
            "baseline right, fine-tuned wrong; most confident fine-tuned errors first",
            c["broken"],
        ),
    }
    for group in EXAMPLE_GROUPS:
        title, explanation, total = headings[group]
        examples = result.examples[group]
        parts += ["", f"### {title} ({len(examples)} of {total})", "", f"{explanation.capitalize()}.", ""]
        if examples.empty:
            parts.append("None.")
            continue
        parts.append(
            _table(
                ["id", "premise", "hypothesis", "gold", "baseline (conf.)", "fine-tuned (conf.)"],
                [
                    [
                        r.id,
                        r.premise,
                        r.hypothesis,
                        r.gold,
                        f"{r.baseline_predicted} ({r.baseline_confidence:.3f})",
                        f"{r.finetuned_predicted} ({r.finetuned_confidence:.3f})",
                    ]
                    for r in examples.itertuples()
                ],
            )
        )
    return "\n".join(parts) + "\n"


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write text through a temp file beside ``path`` (nli.io.atomic_path)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="")


def write_json_atomic(path: str | os.PathLike[str], data: dict[str, Any]) -> None:
    """Write JSON (indented, NaN refused) atomically."""
    write_text_atomic(path, json.dumps(data, indent=2, allow_nan=False) + "\n")


def write_csv_atomic(path: str | os.PathLike[str], frame: pd.DataFrame) -> None:
    """Write a CSV atomically (no index column)."""
    write_text_atomic(path, frame.to_csv(index=False, lineterminator="\n"))
