"""Is the raw data reachable? Checked before `make repro` pulls, so a clone whose data remote does not resolve
stops at once with one line naming the remote's URL and the fixes, instead of `dvc pull --allow-missing`
printing "Everything is up to date." and `dvc repro` failing later on a missing dependency.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from nli.core.errors import UserError

FIXES = (
    "clone this repository beside the data (so that the relative URL resolves), point the remote at your copy "
    "(`dvc remote modify --local {name} url /path/to/dvc-store`), or read SNLI from the hub instead "
    "(`data.source: hub` in conf/, needs the network)"
)


def _tracked(dvc_file: Path) -> tuple[Path, str]:
    """The workspace path and md5 that a .dvc file records."""
    try:
        (out,) = yaml.safe_load(dvc_file.read_text(encoding="utf-8"))["outs"]
        return dvc_file.parent / out["path"], out["md5"]
    except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError):
        raise UserError(f"{dvc_file}: not a readable .dvc file with one output; restore it with git") from None


def _raw_url(root: Path, name: str) -> str | None:
    """The URL as written in .dvc/config.local or .dvc/config (DVC resolves relative ones; users wrote this)."""
    from configobj import ConfigObj

    for config in (root / ".dvc" / "config.local", root / ".dvc" / "config"):
        if config.is_file():
            url = ConfigObj(str(config)).get(f'remote "{name}"', {}).get("url")
            if url:
                return url
    return None


def _is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


def check(root: str | os.PathLike, dvc_file: str | os.PathLike, source: str, pulled: bool = False) -> str:
    """Raise one UserError if the data ``dvc_file`` tracks can't come from anywhere; else say where it comes from.

    Before the pull (``pulled=False``): fine if ``data.source`` is hub, the data is in the workspace or the cache,
    or the default remote is not a local folder (checked after the pull); an error if the local remote folder, or
    the data's listing in it, is missing. After the pull: the data must be in the workspace.
    """
    from dvc.repo import Repo

    root = Path(root)
    if source == "hub":
        return "data.source is hub: no raw data to pull"
    path, md5 = _tracked(root / dvc_file)
    if path.is_dir() and any(path.iterdir()):
        return f"{path.relative_to(root)} is in the workspace"
    with Repo(str(root)) as repo:
        name = repo.config["core"].get("remote")
        url = repo.config["remote"].get(name, {}).get("url") if name else None
        cached = Path(repo.cache.local.oid_to_path(md5)).is_file()
    if cached and not pulled:
        return f"{path.relative_to(root)} is in the DVC cache"
    what = path.relative_to(root)
    if not url:
        raise UserError(f"{dvc_file}: no default DVC remote to pull {what} from; add one ({FIXES.format(name='NAME')})")
    raw = _raw_url(root, name) or url
    shown = f"{raw} (here: {url})" if raw != url else url
    if pulled:
        raise UserError(f"{what} was not pulled from data remote '{name}' at {shown}; {FIXES.format(name=name)}")
    if not _is_local(url):
        return f"{what} comes from remote '{name}' at {url}"
    folder = Path(url.removeprefix("file://"))
    if not folder.is_dir():
        raise UserError(f"data remote '{name}' is unreachable: {shown} is not a folder; {FIXES.format(name=name)}")
    listing = folder / "files" / "md5" / md5[:2] / md5[2:]
    if not listing.is_file():
        raise UserError(
            f"data remote '{name}' at {shown} holds no copy of {what} (md5 {md5}); {FIXES.format(name=name)}"
        )
    return f"{what} comes from remote '{name}' at {url}"
