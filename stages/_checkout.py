"""Imported first by every stage script: this checkout's src/ goes ahead of any installed copy of `nli`.

`dvc exp run --queue` (and `--temp`) runs the stages in a copy of the repository under .dvc/tmp/exps/, while the
editable install (`pip install -e .`) points at the workspace's src/. Without this, a queued experiment would run
the workspace's library, as edited since it was queued, against its own stage scripts, params and dependency hashes.
"""

import sys
from pathlib import Path

import _checkout  # noqa: F401  (first: this checkout's library, also in a queued experiment's copy)

SRC = str(Path(__file__).resolve().parent.parent / "src")
if SRC not in sys.path[:1]:
    sys.path.insert(0, SRC)
