"""SNLI records: the schema, validation with file-and-line errors, the two sources (files and the hub).

A record is ``{"id": str, "premise": str, "hypothesis": str, "label": int}`` with
0 = entailment, 1 = neutral, 2 = contradiction (the schema of the hub dataset ``stanfordnlp/snli``).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nli.core.errors import UserError
from nli.core.labels import LABELS

UNLABELED = (-1, "-")  # SNLI's "no gold label" markers: dropped and counted, never guessed


@dataclass
class Pool:
    """Validated records from one source split, plus how many unlabeled pairs were dropped."""

    name: str
    records: list[dict]
    dropped_unlabeled: int = 0
    duplicates_dropped: int = 0  # set by drop_duplicates


def parse_label(value, where: str) -> int | None:
    """Return 0/1/2, ``None`` for an unlabeled pair, or raise naming ``where``."""
    if value in UNLABELED:
        return None
    if isinstance(value, str) and value in LABELS:
        return LABELS.index(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(LABELS):
        return value
    raise UserError(
        f"{where}: unknown label {value!r}; expected 0/1/2 (or {', '.join(LABELS)}), or -1 / '-' for an unlabeled pair"
    )


def validate_record(obj, where: str, record_id: str) -> dict | None:
    """Check one raw object; return the clean record, ``None`` if unlabeled, or raise."""
    if not isinstance(obj, dict):
        raise UserError(f"{where}: expected a JSON object with premise, hypothesis and label")
    for key in ("premise", "hypothesis"):
        text = obj.get(key)
        if not isinstance(text, str) or not text.strip():
            problem = "missing" if key not in obj else "empty or not a string"
            raise UserError(f"{where}: field {key!r} is {problem}; every pair needs a non-empty {key}")
    if "label" not in obj:
        raise UserError(f"{where}: field 'label' is missing")
    label = parse_label(obj["label"], where)
    if label is None:
        return None
    return {"id": record_id, "premise": obj["premise"].strip(), "hypothesis": obj["hypothesis"].strip(), "label": label}


def collect(name: str, items: Iterable[tuple[str, str, object]]) -> Pool:
    """Validate ``(where, id, object)`` items into a pool; unlabeled pairs are dropped and counted."""
    records, dropped = [], 0
    for where, record_id, obj in items:
        rec = validate_record(obj, where, record_id)
        if rec is None:
            dropped += 1
        else:
            records.append(rec)
    return Pool(name, records, dropped)


def _decode(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{where}: not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); re-save the file as UTF-8"
        ) from None


def check_file(path: Path) -> None:
    """An input file must exist and be a file: a folder is named as one, not reported as missing."""
    if path.is_dir():
        raise UserError(f"{path} is a folder, not a file; give the file inside it (e.g. {path}/test.jsonl)")
    if not path.is_file():
        raise UserError(f"{path} not found")


def parse_json_line(line: str, where: str):
    """One JSON value from one line, as text every later step can handle: malformed JSON, nesting beyond
    Python's recursion limit and lone UTF-16 surrogates (``"\\ud800"``, which no UTF-8 output can hold) are
    errors naming ``where``."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UserError(f"{where}: malformed JSON ({exc.msg} at column {exc.colno}); fix or remove that line") from None
    except RecursionError:
        raise UserError(f"{where}: JSON nested too deeply; a pair is a flat object of strings") from None
    stack, depth = [(obj, 0)], 0
    while stack:  # iterative: a deep value must not exhaust the stack here either
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise UserError(f"{where}: JSON nested more than {MAX_DEPTH} levels deep; a pair is a flat object")
        if isinstance(value, dict):
            stack.extend((k, depth + 1) for k in value)
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise UserError(
                    f"{where}: a lone UTF-16 surrogate ({value[exc.start]!r}) in {value[:40]!r}; an escape such as "
                    f"\\ud83d must be followed by its pair (\\ude00), or remove it"
                ) from None
    return obj


MAX_DEPTH = 100  # far beyond any record (depth 2); keeps a hostile line from costing more than it reads


def read_jsonl(path: str | Path, stream=None) -> list[tuple[int, object]]:
    """Parse a JSONL file (or a binary ``stream``) into ``(line number, object)`` pairs.

    A line that is not UTF-8, not JSON, nested absurdly deep or holding a lone surrogate is a clear error naming
    the file and line.
    """
    path = Path(path)
    if stream is None:
        check_file(path)
    objs = []
    with open(path, "rb") if stream is None else contextlib.nullcontext(stream) as f:
        for lineno, raw in enumerate(f, start=1):
            line = _decode(raw, f"{path}:{lineno}")
            if not line.strip():
                continue
            objs.append((lineno, parse_json_line(line, f"{path}:{lineno}")))
    return objs


def read_csv(path: str | Path) -> list[tuple[int, object]]:
    """Rows of a CSV file with a header, as ``(line number, dict)``; quoting errors name the line."""
    path = Path(path)
    check_file(path)
    text = _decode_file(path)
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    rows = []
    try:
        header = reader.fieldnames or []
        twice = sorted({name for name in header if header.count(name) > 1})
        if twice:  # DictReader would keep only the last of them
            raise UserError(
                f"{path}:1: column(s) {', '.join(map(repr, twice))} appear more than once in the header; "
                f"rename or remove the extra column"
            )
        for row in reader:
            if None in row or None in row.values():
                raise UserError(
                    f"{path}:{reader.line_num}: {len(reader.fieldnames or [])} columns in the header but a different "
                    f"number on this line; quote fields that contain commas"
                )
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise UserError(
            f"{path}:{reader.line_num}: malformed CSV ({exc}); close the quote or quote the field"
        ) from None
    return rows


def _decode_file(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserError(f"{path}:{line}: not UTF-8 (byte 0x{raw[exc.start]:02x}); re-save the file as UTF-8") from None


def load_raw_file(path: Path, name: str) -> Pool:
    """Validate a raw SNLI file; ids are ``{name}-{line number}`` so they trace back to the file."""
    if Path(path).is_dir():
        check_file(Path(path))
    if not Path(path).is_file():
        raise UserError(
            f"{path} not found. Fetch the data with `dvc pull` (the default remote in .dvc/config "
            f"points at ../../shared/dvc-store; see README 'Data') or set data.source: hub"
        )
    return collect(name, ((f"{path}:{n}", f"{name}-{n:06d}", obj) for n, obj in read_jsonl(path)))


def read_split(path: str | Path) -> list[dict]:
    """Read a split written by the ``split`` stage (records keep their ids)."""
    out = []
    for lineno, obj in read_jsonl(path):
        where = f"{path}:{lineno}"
        rec_id = obj.get("id") if isinstance(obj, dict) else None
        if not isinstance(rec_id, str):
            raise UserError(f"{where}: field 'id' is missing; re-run the split stage")
        rec = validate_record(obj, where, rec_id)
        if rec is None:
            raise UserError(f"{where}: unlabeled pair in a split file; re-run the split stage")
        out.append(rec)
    if not out:
        raise UserError(f"{path}: no pairs (the file is empty); re-run the split stage (`dvc repro split`)")
    return out


def load_hub(dataset: str) -> dict[str, Pool]:
    """Official train/validation/test splits through ``datasets`` (a hub id or a local folder)."""
    import datasets

    try:
        ds = datasets.load_dataset(dataset)
    except Exception as exc:  # network, auth, missing dataset: all need the same advice
        raise UserError(
            f"could not load dataset {dataset!r} ({type(exc).__name__}: {str(exc)[:200]}). "
            f"Without hub access use data.source: dvc (the default, `dvc pull`), or point "
            f"data.hub_dataset at a local folder holding train/validation/test files"
        ) from None
    missing = {"train", "validation", "test"} - set(ds)
    if missing:
        raise UserError(f"dataset {dataset!r} lacks split(s) {sorted(missing)}; it needs train, validation, test")
    pools = {
        split: collect(
            split,
            ((f"{dataset}[{split}] row {i}", f"{split}-{i:06d}", obj) for i, obj in enumerate(ds[split], start=1)),
        )
        for split in ("train", "validation", "test")
    }
    for split, pool in pools.items():
        if not pool.records:
            raise UserError(f"{dataset}[{split}]: no labeled pairs found")
    return pools
