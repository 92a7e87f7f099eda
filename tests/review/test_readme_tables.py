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


def test_the_gpu_columns_count_scored_seeds_only_and_show_each_rows_peak(monkeypatch):
    """A seed whose run failed (no test accuracy) is not counted in the GPU column's "mean of N seeds"; the Phi-2
    table shows each row's peak memory measured alone."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import readme_tables

    summary = {
        "embedded_full": {
            "runs": [
                {"test_accuracy": 0.84, "test_accuracy_baseline": 0.33, "n_test": 9824, "n_train": 9342,
                 "train_loop_seconds": 66.0},
                {"test_accuracy": None},
                {"test_accuracy": 0.83},
            ],
            "test_accuracy_mean": 0.835,
            "test_accuracy_sd": 0.007,
        },
        "phi2_shapes": {"rows": [{"config": "fast", "train_examples_per_second": 173.3, "eval_examples_per_second": 584,
                                  "train_speedup_vs_report_config": 24.1, "peak_allocated_gb": 16.59,
                                  "all_finite": True}]},
    }  # fmt: skip
    real = readme_tables.read
    monkeypatch.setattr(readme_tables, "read", lambda p: summary if p.endswith("gpu/summary.json") else real(p))
    assert "(mean of 2 seeds" in readme_tables.results_table()
    assert "| 16.59 |" in readme_tables.gpu_table()
