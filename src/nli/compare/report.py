"""reports/compare.md: the comparison written for people (accuracies in %, differences in pp)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from nli.compare.analysis import EXAMPLE_GROUPS, FDR, Comparison
from nli.core.labels import LABELS
from nli.reporting import stats
from nli.reporting.markdown import table


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
    cal = result.calibration
    columns = [("baseline", "baseline")]
    if "finetuned_uncalibrated" in cal:
        columns.append(("fine-tuned, raw", "finetuned_uncalibrated"))
        columns.append(("fine-tuned, temperature-scaled", "finetuned"))
    else:
        columns.append(("fine-tuned", "finetuned"))
    names = {"ece": "ECE (10 bins, top label)", "brier": "Brier (sum over labels)", "nll": "NLL of the gold label"}
    rows = [[label, *(f"{cal[key][score]:.3f}" for _, key in columns)] for score, label in names.items()]
    lines = [
        "## Calibration",
        "",
        "From the probabilities each model puts on the three label tokens (lower is better). "
        "The reliability diagram is `plots/compare/calibration.csv`."
        + (
            " The fine-tuned model's probabilities are temperature-scaled: one temperature, fitted on the "
            "validation split by the evaluate stage, divides its label log-probabilities; the raw column is "
            "before that scaling (same predictions, other confidences)."
            if "finetuned_uncalibrated" in cal
            else ""
        ),
        "",
        table(["score", *(name for name, _ in columns)], rows),
    ]
    curve = result.risk_coverage
    if curve is not None and len(curve):
        shown = curve[curve["coverage"].isin([0.2, 0.4, 0.6, 0.8, 0.9, 1.0])]
        lines += [
            "",
            "### Risk-coverage (fine-tuned)",
            "",
            "Accuracy when the model answers only its most confident share of the test items and abstains on "
            "the rest (all 20 points: `plots/compare/risk_coverage.csv`).",
            "",
            table(
                ["coverage %", "answers if confidence ≥", "n answered", "accuracy %"],
                [[f"{100 * r.coverage:.0f}", f"{r.threshold:.3f}", r.n, _pct(r.accuracy)] for r in shown.itertuples()],
            ),
        ]
    return lines


def _q(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}"


def _shortcuts(result: Comparison) -> list[str]:
    sc = result.shortcuts
    if sc is None:
        return []
    cues = "; ".join(f"{label}: {', '.join(words) or 'none'}" for label, words in sc.cue_words.items())
    rows = []
    for name, what in (("hard", "hypothesis-only wrong"), ("easy", "hypothesis-only right")):
        ch = sc.subsets[name]
        rows.append(
            [
                f"{name} ({what})",
                ch["n"],
                f"{_pct(ch['accuracy_before'])} {_ci(ch['before_ci95'], signed=False)}",
                f"{_pct(ch['accuracy_after'])} {_ci(ch['after_ci95'], signed=False)}",
                f"{_pp(ch['delta'])} {_ci(ch['delta_ci95'])}",
                f"{ch['fixed']} / {ch['broken']}",
                f"{ch['mcnemar_p']:.3g}",
            ]
        )
    return [
        "## Hypothesis-only baseline: hard and easy test items",
        "",
        f"A logistic regression on word and bigram counts of the {sc.train_n} training hypotheses (it never sees a "
        f"premise) scores **{_pct(sc.accuracy)}%** {_ci(sc.accuracy_ci95, signed=False)} on the test set. The items "
        "it gets wrong are the *hard* subset (the hypothesis's wording points away from the gold label), the rest "
        "the *easy* subset (Gururangan et al. 2018). Accuracies in % with Wilson 95% intervals; Δ with Newcombe's "
        "paired interval; McNemar exact p on the discordant pairs of each subset.",
        "",
        table(["subset", "n", "baseline", "fine-tuned", "Δ pp", "fixed / broken", "McNemar p"], rows),
        "",
        f"Cue words by PMI with the label on the training hypotheses (the `cue:` slices use them): {cues}.",
    ]


def _stress(stress: dict | None) -> list[str]:
    if not stress:
        return []
    groups = {k: v for k, v in stress.items() if isinstance(v, dict)}
    return [
        "## Stress tests",
        "",
        f"The fine-tuned model on test pairs scored clean ({_pct(stress['clean_accuracy'])}%) and under "
        "label-preserving perturbations (the stress stage; intervals, the perturbations' wording and flipped "
        "examples in `reports/stress.md`).",
        "",
        table(
            ["perturbation", "accuracy %", "Δ vs clean pp", "flip rate %", "McNemar p"],
            [
                [name, _pct(g["accuracy"]), _pp(g["accuracy_delta"]), _pct(g["flip_rate"]), f"{g['mcnemar_p']:.3g}"]
                for name, g in groups.items()
            ],
        ),
    ]


def _learned(result: Comparison, stress: dict | None = None) -> list[str]:
    """The first section: in plain words, what the fine-tuned model does beyond the annotation shortcuts."""
    o = result.overall
    lines = ["## What the model learned beyond the shortcuts", ""]
    said = [
        f"Fine-tuning takes test accuracy from {_pct(o['accuracy_before'])}% to {_pct(o['accuracy_after'])}% "
        f"(chance: 33.33%)."
    ]
    sc = result.shortcuts
    if sc is not None:
        hard, easy = sc.subsets["hard"], sc.subsets["easy"]
        said.append(
            f"A classifier that reads only the hypothesis already gets {_pct(sc.accuracy)}% right, so part of the "
            "task can be solved from the hypothesis's wording alone."
        )
        if hard["n"]:
            low = hard["after_ci95"][0]
            verdict = (
                "above chance even there, so the model uses the premise and has learned more than the shortcuts"
                if low > 1 / 3
                else "not distinguishable from chance there, so this run shows no skill beyond the shortcuts"
            )
            said.append(
                f"On the {hard['n']} test items where that classifier is wrong, the fine-tuned model is right on "
                f"{_pct(hard['accuracy_after'])}% {_ci(hard['after_ci95'], signed=False)} (the untuned baseline: "
                f"{_pct(hard['accuracy_before'])}%; McNemar p {_p_value(hard['mcnemar_p'])}): {verdict}."
            )
        if hard["n"] and easy["n"]:
            gap = easy["accuracy_after"] - hard["accuracy_after"]
            ci = stats.newcombe_unpaired_ci(
                round(hard["accuracy_after"] * hard["n"]),
                hard["n"],
                round(easy["accuracy_after"] * easy["n"]),
                easy["n"],
            )
            leans = ci[0] > 0
            said.append(
                f"On the {easy['n']} items the hypothesis alone gets right it scores {_pct(easy['accuracy_after'])}%, "
                f"{_pp(gap)} pp against the hard items (95% CI {_ci(ci)}): "
                + (
                    "part of its accuracy rides on the shortcuts."
                    if leans
                    else "no clear sign that its accuracy rides on the shortcuts."
                )
            )
    if stress:
        groups = {k: v for k, v in stress.items() if isinstance(v, dict)}
        worst = max(groups, key=lambda k: groups[k]["flip_rate"])
        said.append(
            f"Under perturbations that keep the label, it changes its answer on up to "
            f"{_pct(groups[worst]['flip_rate'])}% of pairs ({worst}; accuracy "
            f"{_pp(groups[worst]['accuracy_delta'])} pp against clean): answers that hang on surface features "
            "the label does not depend on."
        )
    raw = result.calibration.get("finetuned_uncalibrated")
    if raw:
        cal = result.calibration["finetuned"]
        said.append(
            f"Its confidences, temperature-scaled on the validation split, have ECE {raw['ece']:.3f} → "
            f"{cal['ece']:.3f} and NLL {raw['nll']:.3f} → {cal['nll']:.3f}."
        )
    return [*lines, " ".join(said)]


def _slices(result: Comparison) -> list[str]:
    shown = {name: ch for name, ch in result.slices.items() if ch["n"]}
    empty = [name for name, ch in result.slices.items() if not ch["n"]]  # registry order
    lines = [
        "## Slices",
        "",
        "Slices are computed from the text alone and may overlap; grouped by family in registry order. "
        f"p: exact McNemar test of the slice's fixed vs broken pairs; q: Benjamini-Hochberg adjusted over the "
        f"{len(shown)} non-empty slices (scipy's `false_discovery_control`); 'q < {FDR}' marks the slices whose "
        f"change survives a false discovery rate of {FDR:.0%}. The 95% CI column is per slice, uncorrected.",
        "",
        table(
            ["slice", "rule", "n", "baseline", "fine-tuned", "Δ pp", "95% CI", "p", "q (BH)", f"q < {FDR}"],
            [
                [
                    name,
                    result.slice_descriptions.get(name, ""),
                    *_change_cells(ch),
                    _q(ch["mcnemar_p"]),
                    _q(ch["q_bh"]),
                    "yes" if ch["q_bh"] is not None and ch["q_bh"] < FDR else "",
                ]
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


def render(result: Comparison, stress: dict | None = None) -> str:
    """The whole markdown report (``stress``: metrics/stress.json, summarised when given)."""
    c = result.counts
    parts: list[Any] = [
        "# Baseline vs fine-tuned: failure comparison",
        "",
        *_learned(result, stress),
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
        *_shortcuts(result),
        "",
        *_stress(stress),
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
