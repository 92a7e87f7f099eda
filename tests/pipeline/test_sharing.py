"""Results and the model shared without rebuilding (docs/sharing.md), with the commands users type.

Clone A runs the tiny pipeline and pushes outputs and the run-cache to a results remote (a local folder); clone B
pulls and `dvc repro` checks every stage but `compare` out of the run-cache; `dvc artifacts get` fetches the tagged
model; the packaged model, loaded outside the repository from its card's snippet, gives evaluate_finetuned's labels;
a change to the baseline alone leaves the model artifact's bytes as they were.
"""

from __future__ import annotations

import csv
import json
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
    "DVC_STUDIO_OFFLINE": "1",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
}
PACKAGE = "models/snli-nli-adapter"


def sh(cwd: Path, *cmd: str, env: dict | None = None) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env or ENV, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> dict[str, Path]:
    """Clone A: the repository on the tiny profile, a committed `results` remote, `dvc repro` run and pushed."""
    root = tmp_path_factory.mktemp("sharing")
    a, results = root / "a", root / "results"
    names = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in names:
        skip = name.startswith(("metrics/", "plots/", "reports/", "runs/", "bench/")) or name in ("dvc.lock",)
        if (ROOT / name).is_file() and not skip and name != "data/raw/snli.dvc":
            (a / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, a / name)
    write_jsonl(a / "data/raw/snli/validation.jsonl", make_pairs(150, seed=1))  # stands in for SNLI
    write_jsonl(a / "data/raw/snli/test.jsonl", make_pairs(60, seed=2))
    sh(a, sys.executable, "scripts/compose_params.py", "profile=tiny", "-o", "params.yaml")
    sh(a, "git", "init", "-q")
    sh(a, "dvc", "add", "-q", "data/raw/snli")
    sh(a, "dvc", "remote", "add", "results", str(results))  # committed: clones and `artifacts get` find it
    sh(a, "git", "add", "-A")
    sh(a, "git", "commit", "-qm", "tiny")  # code and params only, as a pull request's branch is
    sh(a, "dvc", "repro")
    sh(a, sys.executable, "scripts/results_remote.py", "push")
    return {"root": root, "a": a, "results": results}


def test_plain_dvc_run_cache_transfer_leaves_a_second_clone_retraining(shared):
    """Why scripts/results_remote.py exists: `dvc push/pull --run-cache` move the run-cache's entries, not the
    git-tracked outputs they name, so a clone without them reruns the stages (DVC 3)."""
    a, c = shared["a"], shared["root"] / "c"
    sh(shared["root"], "git", "clone", "-q", str(a), str(c))
    plain = shared["root"] / "plain"
    sh(c, "dvc", "remote", "add", "--local", "plain", str(plain))
    sh(a, "dvc", "remote", "add", "--local", "plain", str(plain))
    sh(a, "dvc", "push", "-r", "plain", "--run-cache")
    sh(c, "dvc", "pull", "-r", "plain", "--run-cache", "--allow-missing")
    out = sh(c, "dvc", "repro", "split")  # the cheapest stage: its metrics/data.json never reached the remote
    assert "Running stage 'split'" in out and "is cached" not in out, out


def test_second_clone_restores_every_stage_from_the_run_cache(shared):
    a, b = shared["a"], shared["root"] / "b"
    sh(shared["root"], "git", "clone", "-q", str(a), str(b))
    assert not (b / "dvc.lock").exists() and not (b / "models/adapter").exists()
    assert "pulled" in sh(b, sys.executable, "scripts/results_remote.py", "pull")
    out = sh(b, "dvc", "repro")
    for stage in ("evaluate_baseline", "train", "evaluate_finetuned", "package"):
        assert f"Stage '{stage}' is cached - skipping run, checking out outputs" in out, out
    # Stages with git-tracked outputs that are neither metrics nor plots (split's sizes, the compare and stress
    # reports) are not run-cached by DVC: they rerun, in seconds and to the same bytes, so the stages after them
    # still come from the run-cache. No model stage runs, training least of all.
    ran = {line.split("'")[1] for line in out.splitlines() if line.startswith("Running stage")}
    assert ran == {"split", "stress", "compare"}, out
    assert not (b / "runs" / "train.json").exists()  # written by the train script on every run
    assert folder_bytes(b / "models/adapter") == folder_bytes(a / "models/adapter")
    assert folder_bytes(b / PACKAGE) == folder_bytes(a / PACKAGE)
    assert (b / "metrics/finetuned.json").read_bytes() == (a / "metrics/finetuned.json").read_bytes()
    assert "up to date" in sh(b, "dvc", "status")


def test_tagged_model_comes_back_with_dvc_artifacts_get(shared):
    a = shared["a"]
    sh(a, "git", "add", "-A")
    sh(a, "git", "commit", "-qm", "the run")
    sh(a, "gto", "register", "snli-nli-adapter", "--version", "v1.0.0")  # the tag snli-nli-adapter@v1.0.0
    sh(a, "gto", "assign", "snli-nli-adapter", "--version", "v1.0.0", "--stage", "prod")
    assert set(sh(a, "git", "tag").split()) == {"snli-nli-adapter@v1.0.0", "snli-nli-adapter#prod#1"}
    # where dvc.lock is committed with the run (main after the reference run), a plain `dvc pull` of the results
    # remote ends without an error, and the clone is up to date
    e = shared["root"] / "e"
    sh(shared["root"], "git", "clone", "-q", str(a), str(e))
    assert "ERROR" not in sh(e, "dvc", "pull", "-r", "results")
    assert "up to date" in sh(e, "dvc", "status")
    user = shared["root"] / "user"
    user.mkdir()
    sh(user, "dvc", "artifacts", "get", str(a), "snli-nli-adapter", "--rev", "v1.0.0", "--remote", "results")
    assert folder_bytes(user / "snli-nli-adapter") == folder_bytes(a / PACKAGE)
    get = ("dvc", "artifacts", "get", str(a), "snli-nli-adapter", "--stage", "prod", "--remote", "results")
    sh(user, *get, "-o", "prod")
    assert folder_bytes(user / "prod") == folder_bytes(a / PACKAGE)


def card_snippet(card: str, heading: str) -> str:
    """The first python block under ``heading`` in a model card."""
    section = card.split(f"## {heading}", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_packaged_model_loads_outside_the_repo_and_gives_the_evaluated_labels(shared, tmp_path):
    a = shared["a"]
    model = tmp_path / "downloaded"
    shutil.copytree(a / PACKAGE, model)
    config = json.loads((model / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == "tiny-llama"  # the embedded default: HuggingFaceTB/SmolLM2-...
    shutil.copy(a / "data/split/test.jsonl", tmp_path / "pairs.jsonl")
    snippet = card_snippet((model / "README.md").read_text(), "Exact use")
    snippet = snippet.replace("path/to/this/folder", str(model))
    snippet = re.sub(r"^pairs = .*$", 'pairs = [json.loads(line) for line in open("pairs.jsonl")]', snippet, flags=re.M)
    (tmp_path / "use.py").write_text("import json\n" + snippet)
    # outside the repository: only the installed package (its src/) on the path, no params.yaml here
    env = {**ENV, "PYTHONPATH": str(ROOT / "src")}
    printed = sh(tmp_path, sys.executable, "use.py", env=env)
    labels = [
        w[0] for w in map(str.split, printed.splitlines()) if w and w[0] in ("entailment", "neutral", "contradiction")
    ]
    with open(a / "outputs/predictions/finetuned.csv") as f:
        evaluated = [row["predicted"] for row in csv.DictReader(f)]
    assert len(evaluated) == 30 and labels == evaluated  # the tiny profile's whole test split


def test_a_change_to_the_baseline_alone_leaves_the_model_artifact_as_it_was(shared):
    a = shared["a"]
    before = folder_bytes(a / PACKAGE), (a / "metrics/compare.json").read_bytes()
    params = yaml.safe_load((a / "params.yaml").read_text())
    params["evaluate"]["few_shot_k"] = 2  # the zero-shot baseline becomes few-shot: only it and compare change
    (a / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    out = sh(a, "dvc", "repro")
    assert "Running stage 'evaluate_baseline'" in out and "Running stage 'compare'" in out
    assert "Running stage 'package'" not in out and "Running stage 'train'" not in out
    assert (a / "metrics/compare.json").read_bytes() != before[1]  # the comparison moved ...
    assert folder_bytes(a / PACKAGE) == before[0]  # ... the model artifact did not
