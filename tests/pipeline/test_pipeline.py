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
    folders = ("plots", "reports", "models/adapter", "models/snli-nli-adapter")  # the latter holds temperature.json
    return {
        str(p.relative_to(repo)): p.read_bytes() for f in folders for p in sorted((repo / f).rglob("*")) if p.is_file()
    }


def test_repro_is_complete_idempotent_and_deterministic(repo):
    sh(repo, "dvc", "repro")
    assert set(metrics(repo)) == {
        "data.json",
        "baseline.json",
        "train.json",
        "finetuned.json",
        "stress.json",
        "compare.json",
    }
    shown = json.loads(sh(repo, "dvc", "metrics", "show", "--json"))
    declared = {Path(f).name for rev in shown.values() for f in rev["data"]}
    assert declared == {
        "baseline.json",
        "train.json",
        "finetuned.json",
        "stress.json",
        "compare.json",
    }  # sizes: run info
    assert (repo / "models/adapter/adapter_model.safetensors").is_file()
    assert (repo / "reports/compare.md").read_text().startswith("#")
    assert "## Stress tests" in (repo / "reports/compare.md").read_text()
    assert (repo / "reports/stress.md").read_text().startswith("# Stress tests")
    temperature = json.loads((repo / "models/temperature.json").read_text())["temperature"]
    packaged = json.loads((repo / "models/snli-nli-adapter/temperature.json").read_text())["temperature"]
    assert temperature == packaged > 0
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
        ("src/nli/reporting/stats.py", {"compare", "stress"}),  # the statistics both reports share
        ("src/nli/data/splits.py", {"split"}),  # how pairs are drawn: only the split reruns by itself
        ("src/nli/stress/perturb.py", {"stress"}),
        ("src/nli/model/prompts.py", {"evaluate_baseline", "train", "evaluate_finetuned", "stress"}),
        (
            "src/nli/core/labels.py",
            {"split", "evaluate_baseline", "train", "evaluate_finetuned", "stress", "compare", "package"},
        ),
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


def test_seed_sweep_summary_from_exp_show(repo, tmp_path):
    """The README's seed sweep: queue training seeds for two recipes, then mean ± sd and a paired difference."""
    sh(repo, "dvc", "exp", "run", "--queue", "-S", "profile=tiny", "-S", "lora.r=2,8", "-S", "train.seed=1,2")
    sh(repo, "dvc", "queue", "start", "-j", "1")
    deadline = time.time() + 900
    while time.time() < deadline:
        status = sh(repo, "dvc", "queue", "status")
        if "Queued" not in status and "Running" not in status:
            break
        time.sleep(5)
    rows = json.loads(sh(repo, "dvc", "exp", "show", "--json"))
    out = tmp_path / "seeds.json"
    printed = sh(repo, sys.executable, "scripts/seed_variance.py", "--output", str(out))
    summary = json.loads(out.read_text())
    by_r = {
        r["recipe"]: r for r in summary["recipes"] if r["recipe"].startswith(("lora.r=2,", "lora.r=8,"))
    }  # with the earlier experiments (train.lr=0.02, lora.r=4 ...) lora.r and train.lr set recipes apart
    assert len(by_r) == 2 and all(r["seeds"] == [1, 2, 42] for r in by_r.values()), printed
    accuracy = {
        (
            e["revs"][0]["data"]["params"]["params.yaml"]["data"]["lora"]["r"],
            e["revs"][0]["data"]["params"]["params.yaml"]["data"]["train"]["seed"],
        ): e["revs"][0]["data"]["metrics"]["metrics/finetuned.json"]["data"]["ft_acc"]
        for row in rows
        for e in row.get("experiments") or []
        if e["revs"][0]["data"].get("metrics")
    }
    r2 = next(r for label, r in by_r.items() if label.startswith("lora.r=2,"))
    assert r2["mean"] == pytest.approx(sum(accuracy[2, s] for s in (1, 2, 42)) / 3)
    labels = [r["recipe"] for r in summary["recipes"]]
    i, j = labels.index(r2["recipe"]), labels.index(next(k for k in by_r if k.startswith("lora.r=8,")))
    diff = sh(repo, sys.executable, "scripts/seed_variance.py", "--compare", str(i), str(j))
    assert "paired t over the same seeds" in diff and "95% CI" in diff
