"""``predict``'s input: premise/hypothesis pairs from a JSONL or CSV file or standard input, checked row by row."""

from __future__ import annotations

import sys

from nli.core.errors import UserError
from nli.core.labels import PROBABILITY_COLUMNS
from nli.core.records import read_csv, read_jsonl

OUTPUT_FIELDS = ("predicted", *PROBABILITY_COLUMNS)  # what predict adds to each pair


def read_pairs(path: str, stdin=None) -> list[dict]:
    """Premise/hypothesis pairs to label: JSONL, CSV (by extension) or ``-`` (JSONL on standard input).

    Every row needs non-empty string ``premise`` and ``hypothesis`` (``5`` or ``null`` is an error, not
    the text "None"); other fields pass through, except those predict writes (``predicted``, ``p_*``), which
    would be overwritten. Errors name the file and line.
    """
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        rows, shown = read_jsonl("<stdin>", stream=stream), "<stdin>"
    elif str(path).lower().endswith(".csv"):
        rows, shown = read_csv(path), path
    else:
        rows, shown = read_jsonl(path), path
    if not rows:
        raise UserError(f"{shown}: no pairs found (the input is empty); give one pair per line")
    for lineno, row in rows:
        where = f"{shown}:{lineno}"
        if not isinstance(row, dict):
            raise UserError(f"{where}: expected an object with premise and hypothesis, got {type(row).__name__}")
        for key in ("premise", "hypothesis"):
            value = row.get(key)
            if not isinstance(value, str) or not value.strip():
                problem = "missing" if key not in row else f"{value!r} (not a non-empty string)"
                raise UserError(f"{where}: field {key!r} is {problem}; every pair needs a non-empty {key} text")
        taken = [name for name in OUTPUT_FIELDS if name in row]
        if taken:
            raise UserError(
                f"{where}: field(s) {', '.join(taken)} would be overwritten by predict's output of the same name; "
                f"rename or drop them (an earlier output given as input?)"
            )
    return [row for _, row in rows]
