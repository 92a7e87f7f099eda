"""An unreachable data remote stops `make repro` at once, in one `error:` line naming the URL and the fixes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, make_pairs, write_jsonl

from nli.core.errors import UserError
from nli.data import remote

VENV = Path(sys.prefix)
ENV = {
    **os.environ,
    "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ['PATH']}",
    "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT / 'stages'}",
    "DVC_NO_ANALYTICS": "1",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
}


def sh(cwd: Path, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300)
    assert not check or done.returncode == 0, f"{' '.join(cmd)}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


def clone_where_the_data_remote_does_not_resolve(tmp_path: Path) -> Path:
    """The repository's tracked files in a folder with no ../../shared/dvc-store beside it."""
    repo = tmp_path / "elsewhere" / "repo"
    names = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in names:
        if (ROOT / name).is_file() and not name.startswith(("bench/", "tests/")):
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    sh(repo, "git", "init", "-q")
    return repo


def test_make_repro_stops_at_once_on_an_unreachable_data_remote(tmp_path):
    repo = clone_where_the_data_remote_does_not_resolve(tmp_path)
    # -o: the shared environment counts as installed, never rebuilt from this copy's requirements
    done = sh(repo, "make", "-o", f"{VENV}/.installed", f"VENV={VENV}", "repro", check=False)
    assert done.returncode != 0
    errors = [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stdout + done.stderr
    (error,) = errors
    assert "data remote 'storage' is unreachable: ../../shared/dvc-store" in error
    assert "clone this repository beside the data" in error
    assert "dvc remote modify --local storage url" in error and "data.source: hub" in error
    assert "Traceback" not in done.stderr and "dvc pull" not in done.stdout and "Running stage" not in done.stdout
    # the fix the line names: point the remote at the data, in .dvc/config.local; then the check passes
    store = (ROOT / ".dvc" / "../../shared/dvc-store").resolve()
    if store.is_dir():  # the project's own data store, where this suite runs beside it
        sh(repo, "dvc", "remote", "modify", "--local", "storage", "url", str(store))
        assert "comes from remote 'storage'" in sh(repo, sys.executable, "scripts/check_data.py").stdout


@pytest.fixture
def tracked(tmp_path: Path) -> Path:
    """A DVC repo tracking a small data folder, pushed to a local remote, the workspace copy and cache removed."""
    repo = tmp_path / "repo"
    repo.mkdir()
    sh(repo, "git", "init", "-q")
    sh(repo, "dvc", "init", "-q")
    write_jsonl(repo / "data/raw/snli/test.jsonl", make_pairs(6, seed=2))
    sh(repo, "dvc", "add", "-q", "data/raw/snli")
    sh(repo, "dvc", "remote", "add", "-d", "storage", str(tmp_path / "store"))
    sh(repo, "dvc", "push", "-q")
    shutil.rmtree(repo / "data/raw/snli")
    shutil.rmtree(repo / ".dvc/cache")
    return repo


def test_check_passes_when_the_data_can_come_and_fails_in_one_line_when_not(tracked, tmp_path):
    dvc_file = "data/raw/snli.dvc"
    assert "comes from remote 'storage'" in remote.check(tracked, dvc_file, "dvc")
    assert "hub" in remote.check(tracked, dvc_file, "hub")
    with pytest.raises(UserError, match="was not pulled from data remote 'storage'"):
        remote.check(tracked, dvc_file, "dvc", pulled=True)
    sh(tracked, "dvc", "pull", "-q")
    assert "in the workspace" in remote.check(tracked, dvc_file, "dvc", pulled=True)
    shutil.rmtree(tracked / "data/raw/snli")
    assert "in the DVC cache" in remote.check(tracked, dvc_file, "dvc")  # the pull checks out from the cache
    shutil.rmtree(tracked / ".dvc/cache")
    shutil.rmtree(tmp_path / "store" / "files")  # the remote is there but lost the data
    with pytest.raises(UserError, match="holds no copy of data/raw/snli"):
        remote.check(tracked, dvc_file, "dvc")
    shutil.rmtree(tmp_path / "store")
    with pytest.raises(UserError, match="is unreachable: .*store is not a folder; clone this repository beside"):
        remote.check(tracked, dvc_file, "dvc")
