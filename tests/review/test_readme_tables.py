"""The README's tables are generated from the committed result files, so they cannot drift from them."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_readme_tables_match_the_result_files():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/readme_tables.py"), "--check"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr


def test_a_stale_table_is_reported(tmp_path):
    stale = (
        (ROOT / "README.md").read_text().replace("<!-- generated:results -->\n|", "<!-- generated:results -->\n| x", 1)
    )
    (tmp_path / "README.md").write_text(stale)
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/readme_tables.py"), "--check", "--readme", str(tmp_path / "README.md")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "stale" in done.stderr
