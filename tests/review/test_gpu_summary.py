"""bench/gpu_session/summarize.py: the committed GPU summary (which the README's GPU lines read) is what the
committed raw result files give, so a hand edit or a drifted summarizer fails here."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

SCRIPT = ROOT / "bench" / "gpu_session" / "summarize.py"


def test_committed_summary_is_what_the_result_files_give():
    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_check_fails_on_an_edited_summary(tmp_path, monkeypatch):
    results = tmp_path / "gpu"
    shutil.copytree(ROOT / "bench" / "results" / "gpu", results)
    summary = json.loads((results / "summary.json").read_text())
    summary["embedded_full"]["test_accuracy_mean"] = 0.86  # a figure typed in, not computed
    (results / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    spec = importlib.util.spec_from_file_location("gpu_summarize", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "RES", results)
    with pytest.raises(SystemExit, match="differs from what its result files give"):
        module.main(check=True)
    module.main()  # rewriting restores the computed figure
    assert json.loads((results / "summary.json").read_text())["embedded_full"]["test_accuracy_mean"] < 0.85


def test_the_embedded_full_profile_is_the_recipe_the_gpu_figures_were_measured_with(tmp_path):
    """conf/profile/embedded-full composes to exactly the params of the runs behind the README's GPU figures (less
    the seeds those runs set), so a recipe edited without new measurements fails here. Both are read as the stages
    read them: a key added since the runs, at its default, is the recipe they ran."""
    import dataclasses

    import yaml

    from nli.core import config

    out = tmp_path / "params.yaml"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "compose_params.py"), "profile=embedded-full", "-o", str(out)],
        check=True,
        capture_output=True,
    )
    composed = yaml.safe_load(out.read_text())
    measured = json.loads((ROOT / "bench" / "results" / "gpu" / "summary.json").read_text())["embedded_full"]
    measured = measured["recipe_params"]
    composed.pop("seed")  # the runs' seeds: the split's is left out of the summary, the training one is theirs
    composed["train"]["seed"] = measured["train"]["seed"]

    def typed(params: dict) -> dict:
        return {k: dataclasses.asdict(config.section(k, v)) if k in config.SECTIONS else v for k, v in params.items()}

    assert typed(composed) == typed(measured)
