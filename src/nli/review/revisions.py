"""Reading a git revision for review reports: files at a revision, DVC's JSON diffs, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


class ReportError(Exception):
    """A user-facing failure (bad revision, not a DVC repo, dvc error)."""


def run_command(argv: list[str], what: str) -> str:
    """Run a command, return its stdout; raise ReportError with a one-line reason on failure."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise ReportError(f"{what}: cannot run {argv[0]!r}: {exc.strerror}") from exc
    if proc.returncode != 0:
        lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
        errors = [line.removeprefix("ERROR:").strip() for line in lines if line.startswith("ERROR:")]
        reason = errors[0] if errors else lines[-1] if lines else "unknown error"
        raise ReportError(f"{what} failed: {reason}")
    return proc.stdout


def dvc_json(*args: str) -> dict[str, Any]:
    out = run_command([sys.executable, "-m", "dvc", *args, "--json"], "dvc " + " ".join(args[:2]))
    try:
        return json.loads(out or "{}")
    except json.JSONDecodeError as exc:
        raise ReportError(f"dvc {' '.join(args[:2])} returned invalid JSON: {exc}") from exc


def git_rev_exists(rev: str) -> bool:
    argv = ["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"]
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def short_sha(rev: str) -> str:
    return run_command(["git", "rev-parse", "--short", f"{rev}^{{commit}}"], "git rev-parse").strip()


def read_file(rev: str | None, path: str) -> str | None:
    """A git-tracked file at ``rev``, or in the workspace (rev None); None when absent."""
    if rev is None:
        return Path(path).read_text(encoding="utf-8") if Path(path).is_file() else None
    proc = subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True, check=False)
    return proc.stdout if proc.returncode == 0 else None


def git_files(rev: str | None, folder: str) -> list[str]:
    if rev is None:
        return sorted(str(p) for p in Path(folder).glob("*.json"))
    out = run_command(["git", "ls-tree", "--name-only", rev, f"{folder}/"], "git ls-tree")
    return sorted(line for line in out.splitlines() if line.endswith(".json"))
