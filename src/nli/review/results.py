"""A team's `results` remote, whole: stage outputs, the run-cache, and the outputs the run-cache entries name.

`dvc push --run-cache` sends the run-cache's entries (the `runs/` files) and the outputs that `dvc.lock` names,
not the outputs each entry names (DVC's maintainers: the run-cache transfer moves "the runs files" only,
treeverse/dvc#10472). A stage's git-tracked outputs (`cache: false` metrics and plots: DVC copies them into the
cache when it records a run) then never reach the remote, and another clone can't check that stage out of the
run-cache: it reruns it. ``push`` and ``pull`` add those objects, through DVC's own run-cache and transfer code.
"""

from __future__ import annotations

import os
from pathlib import Path

from nli.core.errors import UserError


def _entries(repo) -> list[tuple[str, str]]:
    """Every run-cache entry in the local cache, as (stage key, entry) names."""
    runs = Path(repo.stage_cache.cache_dir)
    return sorted((p.parent.name, p.name) for p in runs.glob("*/*/*") if p.is_file())


def _objects(repo, remote: str) -> dict:
    """The objects each run-cache entry names, by object database; an entry whose outputs the remote lacks (a run
    never pushed, its folder listing missing here and there) is left out: that stage reruns, as without this."""
    from collections import defaultdict

    from dvc.exceptions import CollectCacheError

    found = defaultdict(set)
    for entry in _entries(repo):
        try:
            for odb, objs in repo.stage_cache.get_used_objs([entry], remote=remote).items():
                found[odb] |= objs
        except CollectCacheError:
            continue
    return found


def _check_remote(repo, remote: str) -> None:
    if remote not in repo.config["remote"]:
        raise UserError(
            f"no DVC remote named {remote!r}; add the team's results remote first "
            f"(`dvc remote add {remote} <url>`, docs/sharing.md)"
        )


def push(root: str | os.PathLike, remote: str = "results") -> str:
    """`dvc push -r remote --run-cache`, then the objects every local run-cache entry names."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        _check_remote(repo, remote)
        pushed = repo.push(remote=remote, run_cache=True)
        objects = _objects(repo, remote)
        sent = sum(len(repo.cloud.push(objs, remote=remote, odb=odb).transferred) for odb, objs in objects.items())
        entries = len(_entries(repo))
        return f"pushed {pushed} files and the run-cache ({entries} entries, {sent} more objects) to {remote}"


def pull(root: str | os.PathLike, remote: str = "results") -> str:
    """`dvc pull -r remote --run-cache --allow-missing`, then the objects every run-cache entry names, so that
    `dvc repro` checks each stage run anywhere with the same inputs out of the run-cache."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        _check_remote(repo, remote)
        pulled = repo.pull(remote=remote, run_cache=True, allow_missing=True)
        objects = _objects(repo, remote)
        got = 0
        for odb, objs in objects.items():
            result = repo.cloud.pull(objs, remote=remote, odb=odb)
            got += len(result.transferred)
        fetched = pulled.get("stats", {}).get("fetched", 0) if isinstance(pulled, dict) else pulled
        entries = len(_entries(repo))
        return f"pulled {fetched} files and the run-cache ({entries} entries, {got} more objects) from {remote}"
