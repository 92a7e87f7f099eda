"""A stage runs the library of the checkout it belongs to, not whatever copy of `nli` is installed.

`dvc exp run --queue` runs the stages in a copy of the repository under .dvc/tmp/exps/ while the editable install
points at the workspace: a queued experiment once ran the workspace's library, edited after it was queued, and failed
on an import that its own copy still had (stages/_checkout.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import ROOT


@pytest.mark.parametrize("stage", ["split", "evaluate", "train", "stress", "compare", "package"])
def test_a_stage_in_a_copy_of_the_repo_imports_the_copys_library(tmp_path, stage):
    copy = tmp_path / "exp"
    shutil.copytree(ROOT / "stages", copy / "stages", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "src", copy / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    (copy / "src" / "nli" / "__init__.py").write_text("import sys\nprint('library of the copy', file=sys.stderr)\n")
    done = subprocess.run(
        [sys.executable, f"stages/{stage}.py", "--help"], cwd=copy, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "library of the copy" in done.stderr
