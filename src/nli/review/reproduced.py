"""Do a revision's committed results reproduce? The committed dvc.lock and metrics against a fresh `dvc repro`.

The PR workflow runs `dvc repro` on the pull request's code, then compares: every out's hash per stage in dvc.lock
and every metrics file, committed (``git show HEAD:...``) against the workspace. A difference means the results
committed with the PR are not what its code and params produce (stale, edited by hand, or not deterministic here).
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from nli.review.revisions import git_files, read_file


def _outs(lock_text: str | None) -> dict[tuple[str, str], Any]:
    """(stage, out path) -> the out's hash (md5 of a file, of a folder's listing) from dvc.lock text."""
    stages = ((yaml.safe_load(lock_text or "") or {}).get("stages")) or {}
    return {
        (stage, out.get("path")): out.get("md5") or out.get("hash")
        for stage, entry in stages.items()
        for out in entry.get("outs") or []
    }


def differences(rev: str = "HEAD", metrics_dir: str = "metrics") -> list[str]:
    """What differs between ``rev``'s committed results and the workspace: one line per out or metric."""
    lines = []
    old, new = _outs(read_file(rev, "dvc.lock")), _outs(read_file(None, "dvc.lock"))
    for stage, path in sorted(old.keys() | new.keys()):
        a, b = old.get((stage, path)), new.get((stage, path))
        if a != b:
            lines.append(f"{stage}: {path} {a or 'absent'} → {b or 'absent'}")
    for path in sorted(set(git_files(rev, metrics_dir)) | set(git_files(None, metrics_dir))):
        a, b = _json(read_file(rev, path)), _json(read_file(None, path))
        if a != b:
            keys = sorted(k for k in (a or {}).keys() | (b or {}).keys() if (a or {}).get(k) != (b or {}).get(k))
            shown = ", ".join(f"{k} {(a or {}).get(k)} → {(b or {}).get(k)}" for k in keys[:6])
            lines.append(f"{path}: {shown or 'absent on one side'}")
    return lines


def _json(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return text
