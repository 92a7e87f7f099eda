"""End-to-end test of scripts/pr_report.py on a real, throw-away git + DVC repo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pr_report.py"

STAGE_SCRIPT = """\
import json, os
import yaml

train = yaml.safe_load(open("params.yaml"))["train"]
lr = train["lr"]
os.makedirs("metrics", exist_ok=True)
os.makedirs("plots", exist_ok=True)
finetuned = {{"accuracy": round(0.5 + lr, 4), "status": "ok" if lr < 0.15 else "better"}}
{extra}
json.dump(finetuned, open("metrics/finetuned.json", "w"))
json.dump({{"accuracy_delta": round(lr - 0.05, 4), "mcnemar_p": 0.01}}, open("metrics/compare.json", "w"))
with open("plots/loss.csv", "w") as f:
    f.write("step,loss\\n")
    f.writelines(f"{{s}},{{1 / (1 + s * lr):.4f}}\\n" for s in range(5))
"""

DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [train]
    metrics:
      - metrics/finetuned.json: {cache: false}
      - metrics/compare.json: {cache: false}
    plots:
      - plots/loss.csv: {cache: false, x: step, y: loss}
"""


def _env() -> dict[str, str]:
    env = dict(os.environ, DVC_NO_ANALYTICS="1", GIT_CONFIG_NOSYSTEM="1")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _run(repo: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=repo, env=_env(), capture_output=True, text=True, check=False)


def _ok(repo: Path, *argv: str) -> None:
    proc = _run(repo, *argv)
    assert proc.returncode == 0, f"{argv} failed:\n{proc.stdout}\n{proc.stderr}"


def _dvc(repo: Path, *args: str) -> None:
    _ok(repo, sys.executable, "-m", "dvc", *args)


def _git(repo: Path, *args: str) -> None:
    _ok(repo, "git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args)


def _write_state(repo: Path, lr: float, layers: list[int], extra_metric: bool) -> None:
    (repo / "params.yaml").write_text(f"train:\n  lr: {lr}\n  layers: {layers}\n")
    extra = 'finetuned["f1"] = 0.42' if extra_metric else ""
    (repo / "train.py").write_text(STAGE_SCRIPT.format(extra=extra))


def _commit_repro(repo: Path, message: str) -> None:
    _dvc(repo, "repro", "--quiet")
    _git(repo, "add", "-A")
    _git(repo, "commit", "--quiet", "-m", message)


def _report(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run(repo, sys.executable, str(SCRIPT), *args)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """main: lr=0.1; branch `feature` (checked out): lr=0.2, longer layers list, a new f1 metric."""
    root = tmp_path_factory.mktemp("dvc_repo")
    _git(root, "init", "--quiet", "--initial-branch=main")
    _dvc(root, "init", "--quiet")
    _dvc(root, "config", "core.analytics", "false")
    (root / "dvc.yaml").write_text(DVC_YAML)
    _write_state(root, lr=0.1, layers=[1, 2], extra_metric=False)
    _commit_repro(root, "baseline")
    _git(root, "checkout", "--quiet", "-b", "feature")
    _write_state(root, lr=0.2, layers=[1, 2, 3], extra_metric=True)
    _commit_repro(root, "raise lr")
    return root


def test_report_shows_metric_param_and_plot_diffs(repo: Path) -> None:
    proc = _report(repo, "--base", "main", "--out", "reports/pr.md", "--plots-dir", "reports/pr_plots")
    assert proc.returncode == 0, proc.stderr

    md = (repo / "reports" / "pr.md").read_text()
    assert "| `params.yaml` | `train.lr` | 0.1 | 0.2 |" in md
    assert "| `params.yaml` | `train.layers` | [1, 2] | [1, 2, 3] |" in md
    assert "| `metrics/finetuned.json` | `accuracy` | 0.6 | 0.7 | +0.1 |" in md
    assert "| `metrics/compare.json` | `accuracy_delta` | 0.05 | 0.15 | +0.1 |" in md
    assert "| `metrics/finetuned.json` | `f1` | — | 0.42 | new |" in md
    assert "| `metrics/finetuned.json` | `status` | ok | better | changed |" in md
    assert "| `metrics/compare.json` | `mcnemar_p` | 0.01 | 0.01 | — |" in md  # unchanged, collapsed
    assert "(pr_plots/index.html)" in md
    assert (repo / "reports" / "pr_plots" / "index.html").is_file()
    assert not list((repo / "reports").glob(".pr.md.*.tmp")), "temp file left behind"


def test_report_without_changes(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "same.md"
    proc = _report(repo, "--base", "HEAD", "--out", str(out), "--plots-dir", str(tmp_path / "plots"))
    assert proc.returncode == 0, proc.stderr

    md = out.read_text()
    assert "No metric changes." in md
    assert "No param changes." in md


@pytest.mark.parametrize(
    ("where", "base", "expected"),
    [
        ("repo", "no-such-rev", "unknown base revision 'no-such-rev'"),
        ("plain_dir", "main", "not inside of a DVC repository"),
    ],
)
def test_errors_exit_2_with_one_line(repo: Path, tmp_path: Path, where: str, base: str, expected: str) -> None:
    cwd = repo if where == "repo" else tmp_path
    proc = _report(cwd, "--base", base, "--out", str(tmp_path / "pr.md"))

    assert proc.returncode == 2
    assert expected in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "pr.md").exists()
