"""reports/stress.md: the stress tests written for people (accuracies in %, changes in pp)."""

from __future__ import annotations

from typing import Any

from nli.reporting.markdown import table
from nli.stress.perturb import DESCRIPTIONS


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}"


def _ci(ci, signed: bool) -> str:
    if ci is None:
        return "n/a"
    fmt = "{:+.2f}" if signed else "{:.2f}"
    return f"[{fmt.format(100 * ci[0])}, {fmt.format(100 * ci[1])}]"


def summary_table(results: dict[str, dict[str, Any]]) -> str:
    rows = [
        [
            name,
            DESCRIPTIONS.get(name, ""),
            f"{_pct(r['accuracy_after'])} {_ci(r['after_ci95'], signed=False)}",
            f"{100 * r['delta']:+.2f} {_ci(r['delta_ci95'], signed=True)}",
            f"{_pct(r['flip_rate'])} {_ci(r['flip_ci95'], signed=False)}",
            f"{r['broken']} / {r['fixed']}",
            f"{r['mcnemar_p']:.3g}",
        ]
        for name, r in results.items()
    ]
    header = ["perturbation", "change", "accuracy %", "Δ vs clean pp", "flip rate %", "broken / fixed", "McNemar p"]
    return table(header, rows)


def render(results: dict[str, dict[str, Any]], examples: dict[str, list[dict]], n: int, pool: int) -> str:
    first = next(iter(results.values()))
    parts = [
        "# Stress tests (fine-tuned model)",
        "",
        f"{n} test pairs (drawn from the {pool} of the test split with the top-level seed), each scored clean and "
        "under four label-preserving perturbations (Naik et al. 2018). Clean accuracy "
        f"**{_pct(first['accuracy_before'])}%** {_ci(first['before_ci95'], signed=False)}. Flip rate: the share of "
        "pairs whose predicted label changes, right or wrong. Accuracy and flip-rate intervals: Wilson 95%; Δ: "
        "Newcombe's paired interval; McNemar exact p on the pairs a perturbation broke vs fixed.",
        "",
        summary_table(results),
        "",
        "## Flipped examples",
        "",
        "Per perturbation, pairs whose answer changed; those where a right answer became wrong first. The text is "
        "the perturbed pair.",
    ]
    for name, rows in examples.items():
        parts += ["", f"### {name}", ""]
        if not rows:
            parts.append("None flipped.")
            continue
        parts.append(
            table(
                ["id", "premise", "hypothesis", "gold", "clean", "perturbed"],
                [[r["id"], r["premise"], r["hypothesis"], r["gold"], r["clean"], r["perturbed"]] for r in rows],
            )
        )
    return "\n".join(parts) + "\n"
