"""End to end: `dvc repro`, `dvc exp run -S`, a queued sweep and `dvc exp show` on the tiny profile.

Runs in a temporary copy of the repository (git + DVC), with small raw data made here in place of
the DVC-tracked SNLI folder, so it needs no remote and no network (~2-3 minutes on 2 CPU cores).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, make_pairs, write_jsonl

BIN = Path(sys.executable).parent
ENV = {
    **os.environ,
    "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    "DVC_NO_ANALYTICS": "1",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
}


def sh(repo: Path, *cmd: str) -> str:
    result = subprocess.run(cmd, cwd=repo, env=ENV, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(cmd)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("repo")
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in files:
        if (
            (ROOT / name).is_file()
            and not name.startswith(("metrics/", "plots/", "reports/"))
            and name not in ("dvc.lock", "data/raw/snli.dvc")
        ):
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    write_jsonl(repo / "data/raw/snli/validation.jsonl", make_pairs(150, seed=1))  # stands in for SNLI
    write_jsonl(repo / "data/raw/snli/test.jsonl", make_pairs(60, seed=2))
    sh(repo, sys.executable, "scripts/compose_params.py", "profile=tiny", "-o", "params.yaml")
    sh(repo, "git", "init", "-q")
    sh(repo, "dvc", "add", "-q", "data/raw/snli")  # tracked like the real data, so queued runs find it
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-qm", "tiny")
    return repo


def metrics(repo: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted((repo / "metrics").glob("*.json"))}


def declared_bytes(repo: Path) -> dict[str, bytes]:
    """Every file under the plots, reports and model outputs (not metrics: their timings move)."""
    folders = ("plots", "reports", "models/adapter", "models/snli-nli-adapter")
    return {
        str(p.relative_to(repo)): p.read_bytes() for f in folders for p in sorted((repo / f).rglob("*")) if p.is_file()
    }


def test_repro_is_complete_idempotent_and_deterministic(repo):
    sh(repo, "dvc", "repro")
    assert set(metrics(repo)) == {"data.json", "baseline.json", "train.json", "finetuned.json", "compare.json"}
    shown = json.loads(sh(repo, "dvc", "metrics", "show", "--json"))
    declared = {Path(f).name for rev in shown.values() for f in rev["data"]}
    assert declared == {"baseline.json", "train.json", "finetuned.json", "compare.json"}  # split sizes: run info
    assert (repo / "models/adapter/adapter_model.safetensors").is_file()
    assert (repo / "reports/compare.md").read_text().startswith("#")
    assert "up to date" in sh(repo, "dvc", "status")
    assert "didn't change, skipping" in sh(repo, "dvc", "repro") and "Running stage" not in sh(repo, "dvc", "repro")
    first = metrics(repo), (repo / "outputs/predictions/finetuned.csv").read_bytes()
    outputs = declared_bytes(repo)
    assert "models/snli-nli-adapter/README.md" in outputs and "plots/train/plots/metrics/eval/accuracy.tsv" in outputs
    sh(repo, "dvc", "repro", "-f")
    assert (metrics(repo), (repo / "outputs/predictions/finetuned.csv").read_bytes()) == first
    assert declared_bytes(repo) == outputs  # plots, report, adapter and its card: byte for byte
    assert json.loads((repo / "models/adapter/adapter_config.json").read_text())["base_model_name_or_path"] == (
        "tiny-llama"
    )
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-qm", "repro")


@pytest.mark.parametrize(
    "edited, stages",
    [
        ("src/nli/package/card.py", {"package"}),  # the card's wording: repackage, never retrain
        ("src/nli/serving/prepacked.py", set()),  # predict's fast path: no stage
        ("src/nli/review/revisions.py", set()),  # the PR report's code: no stage
        ("scripts/pr_report.py", set()),
        ("src/nli/compare/report.py", {"compare"}),
        ("src/nli/model/prompts.py", {"evaluate_baseline", "train", "evaluate_finetuned"}),
        ("src/nli/core/labels.py", {"split", "evaluate_baseline", "train", "evaluate_finetuned", "compare", "package"}),
    ],
)
def test_an_edit_reruns_only_the_stages_that_use_it(repo, edited, stages):
    """The library's folders are cut by what each stage needs: `dvc status` after an edit names exactly those."""
    assert "up to date" in sh(repo, "dvc", "status"), "needs the committed repro of the first test"
    path = repo / edited
    original = path.read_bytes()
    try:
        path.write_bytes(original + b"\n# an edit\n")
        assert set(json.loads(sh(repo, "dvc", "status", "--json"))) == stages
    finally:
        path.write_bytes(original)


def test_exp_run_set_param_reaches_the_code(repo):
    sh(repo, "dvc", "exp", "run", "-n", "lr-test", "-S", "train.lr=0.02", "-S", "lora.r=4")
    rows = json.loads(sh(repo, "dvc", "exp", "show", "--json"))
    exp = next(e for row in rows for e in (row.get("experiments") or []) if e.get("name") == "lr-test")
    data = exp["revs"][0]["data"]
    assert data["params"]["params.yaml"]["data"]["train"]["lr"] == 0.02
    assert data["params"]["params.yaml"]["data"]["lora"]["r"] == 4
    trained = json.loads((repo / "runs/train.json").read_text())["info"]  # the workspace holds the last experiment
    committed = json.loads(sh(repo, "git", "show", "HEAD:runs/train.json"))["info"]  # the committed run: r=16
    assert trained["trainable_params"] * 4 == committed["trainable_params"]


def test_queued_sweep_shows_in_exp_show(repo):
    sh(repo, "dvc", "exp", "run", "--queue", "-S", "lora.r=2,8")
    sh(repo, "dvc", "queue", "start", "-j", "1")
    deadline = time.time() + 600
    while time.time() < deadline:
        status = sh(repo, "dvc", "queue", "status")
        if "Queued" not in status and "Running" not in status:
            break
        time.sleep(5)
    assert status.count("Success") == 2, status
    table = sh(
        repo,
        "dvc",
        "exp",
        "show",
        "--csv",
        "--only-changed",
        "--keep",
        "lora.r",
        "--drop",
        ".*",
        "--keep",
        "lora.r|delta",
    )
    assert "lora.r" in table.splitlines()[0]
    assert {"2", "8"} <= {cell for line in table.splitlines()[1:] for cell in line.split(",")}
