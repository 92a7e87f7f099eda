#!/usr/bin/env python
"""Write a Markdown review report for a change: metrics, params and plots diffs vs a base rev.

Usage (from the repo root):
    python scripts/pr_report.py --base origin/main --out reports/pr.md --plots-dir reports/pr_plots

The workspace (after `dvc repro` / `dvc exp run`) is compared against the base git revision.
DVC is invoked as `<this python> -m dvc` so the report always uses the same environment.
Exit codes: 0 on success, 2 on any DVC/git/IO error (one-line message on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_CELL_CHARS = 80
NO_VALUE = "—"


class ReportError(Exception):
    """A user-facing failure (bad revision, not a DVC repo, dvc error)."""


@dataclass(frozen=True)
class DiffRow:
    """One changed (or unchanged) key of a metrics or params file."""

    path: str
    key: str
    old: Any
    new: Any

    @property
    def changed(self) -> bool:
        return self.old != self.new


# --------------------------------------------------------------------------- commands


def _error_line(stderr: str) -> str:
    """Pick the most useful single line from a tool's stderr."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("ERROR:"):
            return line.removeprefix("ERROR:").strip()
    return lines[-1] if lines else "unknown error"


def run_command(argv: list[str], what: str) -> str:
    """Run a command, return its stdout; raise ReportError with a one-line reason on failure."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise ReportError(f"{what}: cannot run {argv[0]!r}: {exc.strerror}") from exc
    if proc.returncode != 0:
        raise ReportError(f"{what} failed: {_error_line(proc.stderr)}")
    return proc.stdout


def run_dvc(*args: str) -> str:
    return run_command([sys.executable, "-m", "dvc", *args], "dvc " + " ".join(args[:2]))


def dvc_json(*args: str) -> dict[str, Any]:
    out = run_dvc(*args, "--json")
    try:
        return json.loads(out or "{}")
    except json.JSONDecodeError as exc:
        raise ReportError(f"dvc {' '.join(args[:2])} returned invalid JSON: {exc}") from exc


def git_rev_exists(rev: str) -> bool:
    proc = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode == 0


def short_sha(rev: str) -> str:
    return run_command(["git", "rev-parse", "--short", f"{rev}^{{commit}}"], "git rev-parse").strip()


def check_repo(base: str) -> None:
    """Fail early, with a clear message, outside a DVC repo or for an unknown base rev."""
    run_dvc("root")
    if not git_rev_exists(base):
        raise ReportError(f"unknown base revision {base!r} (try `git fetch` or pass --base)")


def default_base() -> str:
    return "origin/main" if git_rev_exists("origin/main") else "main"


# --------------------------------------------------------------------------- diff parsing


def flatten_diff(path: str, entries: dict[str, Any], prefix: str = "") -> list[DiffRow]:
    """Turn DVC's {key: {"old", "new", "diff"}} (possibly nested) into flat dotted rows."""
    rows: list[DiffRow] = []
    for key, value in entries.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and ("old" in value or "new" in value):
            rows.append(DiffRow(path, dotted, value.get("old"), value.get("new")))
        elif isinstance(value, dict):
            rows.extend(flatten_diff(path, value, prefix=f"{dotted}."))
    return rows


def diff_rows(diff: dict[str, Any]) -> list[DiffRow]:
    rows = [row for path, entries in diff.items() for row in flatten_diff(path, entries or {})]
    return sorted(rows, key=lambda row: (row.path, row.key))


# --------------------------------------------------------------------------- formatting


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def format_value(value: Any) -> str:
    if value is None:
        return NO_VALUE
    if is_number(value):
        return f"{value:.6g}"
    if isinstance(value, (list, dict)):
        text = json.dumps(value, separators=(",", ":"), default=str)
    else:
        text = str(value)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return text.replace("|", "\\|").replace("\n", " ")


def format_change(row: DiffRow) -> str:
    if row.old is None and row.new is not None:
        return "new"
    if row.new is None and row.old is not None:
        return "removed"
    if not row.changed:
        return NO_VALUE
    if is_number(row.old) and is_number(row.new):
        return f"{row.new - row.old:+.4g}"
    return "changed"


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return lines


def metrics_table(rows: list[DiffRow]) -> list[str]:
    cells = [[f"`{r.path}`", f"`{r.key}`", format_value(r.old), format_value(r.new), format_change(r)] for r in rows]
    return markdown_table(["File", "Metric", "Base", "New", "Change"], cells)


def params_table(rows: list[DiffRow]) -> list[str]:
    cells = [[f"`{r.path}`", f"`{r.key}`", format_value(r.old), format_value(r.new)] for r in rows]
    return markdown_table(["File", "Param", "Base", "New"], cells)


def details(summary: str, body: list[str]) -> list[str]:
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>"]


# --------------------------------------------------------------------------- sections


def metrics_section(base: str) -> list[str]:
    rows = diff_rows(dvc_json("metrics", "diff", base, "--all"))
    changed = [r for r in rows if r.changed]
    unchanged = [r for r in rows if not r.changed]
    lines = ["## Metrics", ""]
    if not rows:
        return [*lines, "No metrics found (no `metrics` in `dvc.yaml`?)."]
    lines += metrics_table(changed) if changed else ["No metric changes."]
    if unchanged:
        lines += ["", *details(f"Unchanged metrics ({len(unchanged)})", metrics_table(unchanged))]
    return lines


def params_section(base: str) -> list[str]:
    rows = diff_rows(dvc_json("params", "diff", base))
    lines = ["## Params", ""]
    return lines + (params_table(rows) if rows else ["No param changes."])


def render_plots(base: str, plots_dir: Path) -> Path | None:
    """Render `dvc plots diff` into plots_dir; return index.html, or None if nothing was plotted."""
    plots_dir.mkdir(parents=True, exist_ok=True)  # dvc creates only the last path component
    index = plots_dir / "index.html"
    index.unlink(missing_ok=True)  # never link a stale page from an earlier run
    run_dvc("plots", "diff", base, "--out", str(plots_dir))
    return index if index.is_file() else None


def plots_section(base: str, plots_dir: Path, out: Path) -> list[str]:
    lines = ["## Plots", ""]
    try:
        index = render_plots(base, plots_dir)
    except ReportError as exc:
        return [*lines, f"DVC could not render the plots: {exc}"]
    if index is None:
        return [*lines, "No plots to compare (DVC found no plots in `dvc.yaml`)."]
    link = os.path.relpath(index.resolve(), out.resolve().parent)
    return [*lines, f"Base vs. workspace plots: [{plots_dir}/index.html]({Path(link).as_posix()})"]


def build_report(base: str, plots_dir: Path, out: Path) -> str:
    head = short_sha("HEAD") if git_rev_exists("HEAD") else "workspace"
    lines = [
        f"# DVC review: `{base}` ({short_sha(base)}) → workspace (HEAD {head})",
        "",
        *metrics_section(base),
        "",
        *params_section(base),
        "",
        *plots_section(base, plots_dir, out),
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- output & CLI


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="git revision to compare against (default: origin/main, else main)")
    parser.add_argument("--out", type=Path, default=Path("reports/pr.md"), help="markdown output file")
    parser.add_argument("--plots-dir", type=Path, default=Path("reports/pr_plots"), help="rendered plots dir")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        base = args.base or default_base()
        check_repo(base)
        write_atomic(args.out, build_report(base, args.plots_dir, args.out))
    except (ReportError, OSError) as exc:
        print(f"pr_report: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
