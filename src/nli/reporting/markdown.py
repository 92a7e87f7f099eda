"""Markdown for the compare report and the PR report: tables (one escaping rule) and mermaid charts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def cell(text: Any, max_chars: int | None = None) -> str:
    """A value made safe inside a table cell: pipes and backslashes escaped, newlines flattened, optionally cut."""
    text = str(text).replace("\r", " ").replace("\n", " ")
    if max_chars is not None and len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    return text.replace("\\", "\\\\").replace("|", "\\|")


def table(header: Sequence[Any], rows: Iterable[Sequence[Any]], max_chars: int | None = None) -> str:
    """A GitHub-flavoured markdown table; every cell goes through ``cell``."""
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v, max_chars) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def xychart(
    title: str, y_name: str, series: dict[str, dict[float, float]], colors: Sequence[str], max_points: int = 40
) -> list[str]:
    """A mermaid xychart-beta line chart (GitHub renders it in comments), one line per series, in ``colors``.

    The x axis is the union of the series' x values (at most ``max_points``, evenly picked); a series
    without a point at some x shows its last earlier value (mermaid lines cannot have gaps).
    """
    xs = sorted({x for points in series.values() for x in points})
    if len(xs) > max_points:
        xs = [xs[round(i * (len(xs) - 1) / (max_points - 1))] for i in range(max_points)]
    lines = ["```mermaid", "---", "config:", "  themeVariables:", "    xyChart:"]
    lines += [f'      plotColorPalette: "{", ".join(colors)}"', "---", "xychart-beta", f'  title "{title}"']
    lines += [f'  x-axis "step" [{", ".join(f"{x:g}" for x in xs)}]', f'  y-axis "{y_name}"']
    for points in series.values():
        known = sorted(points)
        values = [points[max((k for k in known if k <= x), default=known[0])] for x in xs]
        lines.append(f"  line [{', '.join(f'{v:.4g}' for v in values)}]")
    return [*lines, "```"]
