"""reports/compare.md: the comparison written for people (accuracies in %, differences in pp)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from nli.compare.analysis import EXAMPLE_GROUPS, Comparison
from nli.compare.markdown import table
from nli.core.labels import LABELS


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}"


def _pp(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:+.2f}"


def _ci(ci: Sequence[float] | None, signed: bool = True) -> str:
    if ci is None:
        return "n/a"
    fmt = "{:+.2f}" if signed else "{:.2f}"
    return f"[{fmt.format(100 * ci[0])}, {fmt.format(100 * ci[1])}]"


def _p_value(p: float) -> str:
    """'= 0.0088', or '< 1e-300' where the p-value underflowed to 0."""
    return "< 1e-300" if p == 0 else f"= {p:.3g}"


def _matrix(counts: pd.DataFrame, corner: str) -> str:
    return table([corner, *counts.columns], [[label, *counts.loc[label].tolist()] for label in counts.index])


def _change_cells(ch: dict) -> list:
    """n, accuracy before/after, delta and its interval, formatted for a markdown row."""
    return [ch["n"], _pct(ch["accuracy_before"]), _pct(ch["accuracy_after"]), _pp(ch["delta"]), _ci(ch["delta_ci95"])]


def _significant(ci: Sequence[float] | None) -> str:
    if ci is None:
        return ""
    return "yes" if ci[0] > 0 or ci[1] < 0 else ""


def _probs(probs: Sequence[float]) -> str:
    return " / ".join(f"{p:.3f}" for p in probs)


def _headline(result: Comparison) -> list[str]:
    o, c = result.overall, result.counts
    return [
        f"**Accuracy {_pct(o['accuracy_before'])}% → {_pct(o['accuracy_after'])}%, "
        f"Δ {_pp(o['delta'])} pp (95% CI {_ci(o['delta_ci95'])} pp); "
        f"McNemar exact p {_p_value(result.mcnemar_p)}** on n = {result.n} test examples "
        f"({c['fixed']} fixed, {c['broken']} broken).",
        "",
        "Accuracies in %, differences in percentage points (pp). Accuracy intervals: Wilson score. The overall Δ "
        f"interval: paired bootstrap percentile, {result.bootstrap_samples} resamples, seed {result.seed}; "
        "per-label and slice Δ intervals: Newcombe's paired score interval (valid for small n).",
        "",
        table(
            ["model", "accuracy %", "95% CI"],
            [
                ["baseline", _pct(o["accuracy_before"]), _ci(o["before_ci95"], signed=False)],
                ["fine-tuned", _pct(o["accuracy_after"]), _ci(o["after_ci95"], signed=False)],
                *[[f"{name}: {what}", _pct(acc), ""] for name, (what, acc) in result.references.items()],
            ],
        ),
    ]


def _calibration(result: Comparison) -> list[str]:
    before, after = result.calibration["baseline"], result.calibration["finetuned"]
    rows = [
        ["ECE (10 bins, top label)", f"{before['ece']:.3f}", f"{after['ece']:.3f}"],
        ["Brier (sum over labels)", f"{before['brier']:.3f}", f"{after['brier']:.3f}"],
        ["NLL of the gold label", f"{before['nll']:.3f}", f"{after['nll']:.3f}"],
    ]
    return [
        "## Calibration",
        "",
        "From the probabilities each model puts on the three label tokens (lower is better). "
        "The reliability diagram is `plots/compare/calibration.csv`.",
        "",
        table(["score", "baseline", "fine-tuned"], rows),
    ]


def _slices(result: Comparison) -> list[str]:
    shown = {name: ch for name, ch in result.slices.items() if ch["n"]}
    empty = [name for name, ch in result.slices.items() if not ch["n"]]  # registry order
    lines = [
        "## Slices",
        "",
        "Slices are computed from the text alone and may overlap; grouped by family in registry order. "
        "'CI excludes 0' marks differences whose interval does not contain zero "
        "(no correction for the number of slices).",
        "",
        table(
            ["slice", "rule", "n", "baseline", "fine-tuned", "Δ pp", "95% CI", "CI excludes 0"],
            [
                [name, result.slice_descriptions.get(name, ""), *_change_cells(ch), _significant(ch["delta_ci95"])]
                for name, ch in shown.items()
            ],
        ),
    ]
    if empty:
        lines += ["", f"Empty on this test set (not shown): {', '.join(f'`{name}`' for name in empty)}."]
    return lines


def _examples(result: Comparison) -> list[str]:
    c = result.counts
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
    probs = "/".join(label[0] for label in LABELS)
    parts = ["## Examples", "", f"Probabilities are p({probs}) = {' / '.join(LABELS)}."]
    for group in EXAMPLE_GROUPS:
        title, explanation, total = headings[group]
        examples = result.examples[group]
        parts += ["", f"### {title} ({len(examples)} of {total})", "", f"{explanation.capitalize()}.", ""]
        if examples.empty:
            parts.append("None.")
            continue
        parts.append(
            table(
                [
                    "id",
                    "premise",
                    "hypothesis",
                    "gold",
                    "baseline",
                    f"baseline p({probs})",
                    "fine-tuned",
                    f"fine-tuned p({probs})",
                ],
                [
                    [
                        r.id,
                        r.premise,
                        r.hypothesis,
                        r.gold,
                        r.baseline_predicted,
                        _probs(r.baseline_probs),
                        r.finetuned_predicted,
                        _probs(r.finetuned_probs),
                    ]
                    for r in examples.itertuples()
                ],
            )
        )
    return parts


def render(result: Comparison) -> str:
    """The whole markdown report."""
    c = result.counts
    parts: list[Any] = [
        "# Baseline vs fine-tuned: failure comparison",
        "",
        *_headline(result),
        "",
        "## Paired outcomes",
        "",
        table(
            ["", "fine-tuned correct", "fine-tuned wrong"],
            [
                ["baseline correct", c["both_correct"], f"{c['broken']} (broken)"],
                ["baseline wrong", f"{c['fixed']} (fixed)", c["both_wrong"]],
            ],
        ),
        "",
        *_calibration(result),
        "",
        "## Accuracy by gold label",
        "",
        table(
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
        *_slices(result),
        "",
        *_examples(result),
    ]
    return "\n".join(parts) + "\n"
