"""scripts/seed_variance.py: recipes from `dvc exp show --json`, mean ± sd over training seeds, a difference CI.

The JSON here has the shape `dvc exp show --json` prints (checked against the real command in
tests/pipeline/test_pipeline.py::test_seed_sweep_summary_from_exp_show).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT
from scipy import stats


def exp(name: str, r: int, seed: int, accuracy: float | None) -> dict:
    metrics = {} if accuracy is None else {"metrics/finetuned.json": {"data": {"ft_acc": accuracy}}}
    params = {"params.yaml": {"data": {"seed": 42, "lora": {"r": r}, "train": {"lr": 0.002, "seed": seed}}}}
    return {"revs": [{"rev": "f" * 40, "name": name, "data": {"params": params, "metrics": metrics}}]}


ACC = {(8, 1): 0.70, (8, 2): 0.74, (8, 3): 0.72, (16, 1): 0.75, (16, 2): 0.78, (16, 3): 0.74}
ROWS = [
    {"rev": "workspace", "name": None, "data": exp("ws", 16, 42, 0.1)["revs"][0]["data"], "experiments": None},
    {
        "rev": "a" * 40,
        "name": "main",
        "data": exp("main", 16, 1, ACC[16, 1])["revs"][0]["data"],
        "experiments": [exp(f"r{r}-s{s}", r, s, ACC[r, s]) for r, s in ACC if (r, s) != (16, 1)]
        + [exp("failed", 8, 4, None)],
    },
]


def run(tmp_path, rows, *args):
    (tmp_path / "exp.json").write_text(rows if isinstance(rows, str) else json.dumps(rows))
    cmd = [sys.executable, str(ROOT / "scripts/seed_variance.py"), "--input", str(tmp_path / "exp.json"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)


def test_mean_sd_per_recipe_and_a_paired_interval_for_the_difference(tmp_path):
    done = run(tmp_path, ROWS, "--output", "out/seeds.json")
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "out/seeds.json").read_text())
    by_label = {r["recipe"]: r for r in summary["recipes"]}
    assert set(by_label) == {"lora.r=16", "lora.r=8"}  # workspace and the run without metrics are left out
    r8, r16 = (np.array([ACC[r, s] for s in (1, 2, 3)]) for r in (8, 16))
    assert by_label["lora.r=8"]["seeds"] == [1, 2, 3] and by_label["lora.r=8"]["mean"] == pytest.approx(r8.mean())
    assert by_label["lora.r=8"]["sd"] == pytest.approx(r8.std(ddof=1))
    assert by_label["lora.r=8"]["values"] == pytest.approx(list(r8))  # each seed's value, in the order of seeds
    diff = summary["difference"]  # recipes sorted by label: 0 = lora.r=16, 1 = lora.r=8
    assert diff["difference"] == pytest.approx(r8.mean() - r16.mean()) and diff["method"].startswith("paired")
    d = r8 - r16
    half = stats.t.ppf(0.975, 2) * d.std(ddof=1) / np.sqrt(3)  # the paired t interval by hand
    assert diff["ci95"] == pytest.approx([d.mean() - half, d.mean() + half])
    assert "lora.r=8 minus lora.r=16" in done.stdout


def test_different_seeds_use_welch_and_one_seed_has_no_sd(tmp_path):
    rows = [dict(ROWS[1], experiments=ROWS[1]["experiments"] + [exp("r8-s9", 8, 9, 0.71)])]
    done = run(tmp_path, rows, "--compare", "0", "1", "--output", "s.json")
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "s.json").read_text())["difference"]["method"].startswith("Welch")
    single = [dict(ROWS[1], experiments=[])]
    done = run(tmp_path, single)
    assert done.returncode == 0 and "± n/a" in done.stdout


@pytest.mark.parametrize(
    "rows,args,words",
    [
        ("not json", [], "not JSON"),
        ({"rev": "x"}, [], "dvc exp show --json"),
        (ROWS, ["--metric", "metrics/finetuned.json:nothing"], "no experiment has"),
        (ROWS, ["--compare", "0", "5"], "--compare 0 5"),
        (ROWS, ["--metric", "accuracy"], "<metrics file>:<key>"),
    ],
)
def test_bad_input_is_one_error_line(tmp_path, rows, args, words):
    done = run(tmp_path, rows, *args)
    assert done.returncode == 2 and done.stderr.startswith("error: ") and words in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
