"""The experiment loop as users run it, on a real git + DVC repository (the tiny profile; mechanics, not accuracy).

exp run (two experiments, one on another profile) → the 120-column view → `--md` one row per experiment → apply,
then a queued `-S` keeps the applied profile → branch, the same → the branch's PR report leads with what changed;
a renamed profile is refused; an edit of params.yaml reaches the pipeline.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, make_pairs, write_jsonl

BIN = Path(sys.executable).parent
ENV = {
    **os.environ,
    "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    "DVC_NO_ANALYTICS": "1",
    "COLUMNS": "120",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
}
# A second cheap profile, so an experiment can change profile as users do with smoke and the default.
TINY2 = "# @package _global_\nprofile: tiny2\nsplit:\n  train_size: 32\n  val_size: 24\n  test_size: 30\n"
TINY2 += "model:\n  name: tiny-llama\nevaluate:\n  batch_size: 8\ntrain:\n  max_steps: 4\n  eval_steps: 2\n"
MAKE = ["make", f"VENV={BIN.parent}"]


def run(repo: Path, *cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=repo, env=ENV, capture_output=True, text=True)


def sh(repo: Path, *cmd: str) -> str:
    result = run(repo, *cmd)
    assert result.returncode == 0, f"{' '.join(cmd)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def params(repo: Path) -> dict:
    return yaml.safe_load((repo / "params.yaml").read_text())


def queued_params(repo: Path, name: str) -> dict:
    """The params of the queued experiment ``name``, as `dvc exp show --json` reports them."""
    rows = json.loads(sh(repo, "dvc", "exp", "show", "--json"))
    (exp,) = [exp for row in rows for exp in row.get("experiments") or [] if exp.get("name") == name]
    return exp["revs"][0]["data"]["params"]["params.yaml"]["data"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("loop")
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in files:
        skip = name.startswith(("metrics/", "plots/", "reports/", "runs/", "bench/", "models/"))
        if (ROOT / name).is_file() and not skip and name not in ("dvc.lock", "data/raw/snli.dvc"):
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    write_jsonl(repo / "data/raw/snli/validation.jsonl", make_pairs(150, seed=1))  # stands in for SNLI
    write_jsonl(repo / "data/raw/snli/test.jsonl", make_pairs(60, seed=2))
    (repo / "conf/profile/tiny2.yaml").write_text(TINY2)
    sh(repo, "git", "init", "-q", "--initial-branch=main")
    sh(repo, *MAKE, "profile", "P=tiny")  # the one-flag profile switch
    sh(repo, "dvc", "add", "-q", "data/raw/snli")
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-qm", "tiny")  # dvclive (train) needs a commit to exist
    sh(repo, "dvc", "repro")
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-qm", "tiny, reproduced")
    return repo


def test_the_loop(repo):
    # Two experiments: the committed profile with another lr, and another profile (switched with one flag).
    sh(repo, "dvc", "exp", "run", "-n", "hi", "-S", "train.lr=0.01")
    sh(repo, *MAKE, "profile", "P=tiny2")
    sh(repo, "dvc", "exp", "run", "-n", "small", "-S", "train.lr=0.0005")

    # The view: every line within 120 columns, the accuracy columns and the profile visible, then the changed
    # params as far as they fit (here split.train_size first; ARGS=--md shows them all).
    view = sh(repo, *MAKE, "-s", "exp-show").splitlines()
    assert max(len(line) for line in view) <= 120, "\n".join(view)
    header = next(line for line in view if "Experiment" in line).split()
    assert header[:8] == ["Experiment", "base_acc", "val_acc", "ft_acc", "delta", "delta_lo", "delta_hi", "profile"]
    assert header[8] == "split.train_size", header  # a changed param; unchanged ones and file hashes are left out
    rows = {name: line for line in view for name in ("[hi]", "[small]") if name in line}
    assert "tiny2" in rows["[small]"] and " 32 " in rows["[small]"] and " 48 " in rows["[hi]"]
    full = sh(repo, *MAKE, "-s", "exp-show", "ARGS=--csv").splitlines()
    assert {"train.lr", "train.max_steps", "split.train_size"} <= set(full[0].split(","))

    # --md: one table row per experiment (the multi-line prompt template used to split each into several).
    md = [line for line in sh(repo, "dvc", "exp", "show", "--md").splitlines() if line.startswith("|")]
    assert len(md) == 2 + 4, "\n".join(md)  # header, rule; workspace, main, hi, small

    # Apply an experiment of another profile: a queued -S starts from its params, not from conf/ or main's.
    sh(repo, "git", "checkout", "-q", "--", ".")
    sh(repo, "dvc", "exp", "apply", "small")
    assert params(repo)["profile"] == "tiny2"
    sh(repo, "dvc", "exp", "run", "--queue", "-n", "q1", "-S", "train.lr=0.003")
    queued = queued_params(repo, "q1")
    assert (queued["profile"], queued["split"]["train_size"], queued["train"]["lr"]) == ("tiny2", 32, 0.003)
    assert queued["train"]["max_steps"] == 4
    sh(repo, "dvc", "queue", "remove", "--all")

    # Branch it and commit: the branch holds the experiment, and the next -S starts from it too.
    sh(repo, "git", "checkout", "-q", "--", ".")
    sh(repo, "dvc", "exp", "branch", "small", "small-branch")
    sh(repo, "git", "checkout", "-q", "small-branch")
    assert params(repo)["profile"] == "tiny2" and params(repo)["train"]["lr"] == 0.0005
    assert "up to date" in sh(repo, "dvc", "status")
    sh(repo, "dvc", "exp", "run", "--queue", "-n", "q2", "-S", "train.lr=0.004")
    queued = queued_params(repo, "q2")
    assert (queued["profile"], queued["split"]["train_size"], queued["train"]["lr"]) == ("tiny2", 32, 0.004)
    sh(repo, "dvc", "queue", "remove", "--all")

    # The PR report leads with the metrics the branch changed, each base → new.
    sh(repo, sys.executable, "scripts/pr_report.py", "--base", "main", "--out", "pr.md")
    first = (repo / "pr.md").read_text().splitlines()[0]
    diff = json.loads(sh(repo, "dvc", "metrics", "diff", "main", "--json"))
    changed = {key for entries in diff.values() for key, v in entries.items() if v.get("old") != v.get("new")}
    changed -= {"delta_lo", "delta_hi"}  # shown beside delta
    assert changed, diff
    assert first.startswith("**Changed vs `main` (") and all(f"{key} " in first for key in changed), (first, changed)
    sh(repo, sys.executable, "scripts/pr_report.py", "--base", "HEAD", "--out", "same.md")
    assert (repo / "same.md").read_text().startswith("**No change vs `HEAD` (")

    # Significance stays readable where DVC rounds p to 5 decimals: -log10 p beside it.
    for rev in ("main", "small-branch"):
        compare = json.loads(sh(repo, "git", "show", f"{rev}:metrics/compare.json"))
        assert compare["neglog10_p"] == pytest.approx(-math.log10(compare["mcnemar_p"]), abs=1e-3)


def test_a_renamed_profile_is_refused_and_an_edit_reaches_the_pipeline(repo):
    sh(repo, "git", "checkout", "-q", "main")
    sh(repo, "git", "checkout", "-q", "--", ".")
    result = run(repo, "dvc", "exp", "run", "-S", "profile=tiny2")  # would relabel tiny as tiny2
    assert result.returncode != 0
    assert re.search(r"error: params.yaml: profile = tiny2 but .*--profile tiny2", result.stderr)
    sh(repo, "git", "checkout", "-q", "--", ".")
    text = (repo / "params.yaml").read_text()
    (repo / "params.yaml").write_text(text.replace("few_shot_k: 0", "few_shot_k: 3"))  # where the docs say to edit
    assert "evaluate_baseline" in json.loads(sh(repo, "dvc", "status", "--json"))
    (repo / "params.yaml").write_text(text)
