"""Markdown tables for the compare report and the PR report (one escaping rule for both)."""

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
