"""End-to-end test of scripts/pr_report.py on a real, throw-away git + DVC repo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pr_report.py"

STAGE_SCRIPT = """\
import json, math, os
import yaml

params = yaml.safe_load(open("params.yaml"))
lr, base = params["train"]["lr"], params.get("base", 0.334)
for d in ("metrics", "runs", "plots/eval", "plots/confusion", "plots/compare"):
    os.makedirs(d, exist_ok=True)
after = round(0.5 + lr, 4)
json.dump({{"base_acc": base, "base_f1": 0.2}}, open("metrics/baseline.json", "w"))
json.dump({{"ft_acc": after, "ft_f1": round(after - 0.01, 4)}}, open("metrics/finetuned.json", "w"))
p = 1.2e-30 if lr > 0.15 else 3.4e-20
compare = {{"delta": round(after - base, 4), "delta_lo": round(after - base - 0.05, 4),
           "delta_hi": round(after - base + 0.05, 4), "mcnemar_p": p, "neglog10_p": round(-math.log10(p), 3),
           "fixed": int(1000 * lr) + 150, "broken": 28}}
json.dump(compare, open("metrics/compare.json", "w"))
json.dump({{"info": {{"device": "cpu"}}, "cost": {{"stage_seconds": 600 * lr / 0.1, "peak_cpu_rss_gb": 1.5}}}},
          open("runs/train.json", "w"))
json.dump({{"cost": {{"stage_seconds": 20.0 * (1 + (base != 0.334))}}}}, open("runs/evaluate_baseline.json", "w"))
json.dump({{"cost": {{"seconds": 0.4 if lr > 0.15 else 0.3}}}}, open("runs/compare.json", "w"))
with open("plots/compare/slices.csv", "w") as f:
    f.write("slice,n,stage,accuracy\\nall,10,baseline,0.3\\n" + f"all,10,finetuned,{{after}}\\n")
    f.write("negation,4,finetuned,0.5\\n" if lr > 0.15 else "")
with open("plots/eval/accuracy.tsv", "w") as f:
    f.write("step\\taccuracy\\n")
    f.writelines(f"{{s}}\\t{{0.4 + s * lr / 100:.4f}}\\n" for s in (40, 80, 113))
with open("plots/confusion/finetuned.csv", "w") as f:
    f.write("gold,predicted\\n" + "entailment,entailment\\n" * (3 if lr > 0.15 else 2) + "neutral,entailment\\n")
"""

DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [train, base]
    outs:
      - plots/eval: {cache: false}
      - plots/confusion: {cache: false}
      - plots/compare: {cache: false}
    metrics:
      - metrics/baseline.json: {cache: false}
      - metrics/finetuned.json: {cache: false}
      - metrics/compare.json: {cache: false}
plots:
  - val_accuracy:
      title: Validation accuracy
      x: step
      y:
        plots/eval/accuracy.tsv: accuracy
  - confusion:
      template: confusion
      x: predicted
      y:
        plots/confusion/finetuned.csv: gold
  - plots/compare/slices.csv:
      title: Accuracy per slice
      template: bar_horizontal
      x: accuracy
      y: slice
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


def _write_state(repo: Path, lr: float, layers: list[int], base: float = 0.334) -> None:
    (repo / "params.yaml").write_text(f"base: {base}\ntrain:\n  lr: {lr}\n  layers: {layers}\n")
    (repo / "train.py").write_text(STAGE_SCRIPT.format())


def _commit_repro(repo: Path, message: str) -> None:
    _dvc(repo, "repro", "--quiet")
    _git(repo, "add", "-A")
    _git(repo, "commit", "--quiet", "-m", message)


def _report(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run(repo, sys.executable, str(SCRIPT), *args)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """main: lr=0.1; branch `feature` (checked out): lr=0.2 and a longer layers list."""
    root = tmp_path_factory.mktemp("dvc_repo")
    _git(root, "init", "--quiet", "--initial-branch=main")
    _dvc(root, "init", "--quiet")
    _dvc(root, "config", "core.analytics", "false")
    (root / "dvc.yaml").write_text(DVC_YAML)
    _write_state(root, lr=0.1, layers=[1, 2])
    _commit_repro(root, "baseline")
    _git(root, "checkout", "--quiet", "-b", "feature")
    _write_state(root, lr=0.2, layers=[1, 2, 3])
    _commit_repro(root, "raise lr")
    return root


def test_report_leads_with_the_accuracy_change_then_params_cost_and_plots(repo: Path) -> None:
    proc = _report(repo, "--base", "main", "--out", "reports/pr.md", "--plots-dir", "reports/pr_plots")
    assert proc.returncode == 0, proc.stderr

    md = (repo / "reports" / "pr.md").read_text()
    first, _, second = md.splitlines()[:3]
    assert first.startswith("**Changed vs `main` (")
    assert first.endswith(
        "): ft_acc 60.0% → 70.0%; delta +26.6 pp [+21.6, +31.6] → +36.6 pp [+31.6, +41.6]; fixed 250 → 350; "
        "ft_f1 0.59 → 0.69; mcnemar_p 3.4e-20 → 1.2e-30; neglog10_p 19.47 → 29.92.**"
    )  # what the change did, base → new; base_acc did not move, so it is not there
    assert second.startswith("Fine-tuning, zero-shot → fine-tuned accuracy: this change 33.4% → 70.0% (Δ +36.6 pp")
    assert "; base `main` (" in second and "33.4% → 60.0% (Δ +26.6 pp, 95% CI [+21.6, +31.6]" in second
    sections = [line for line in md.splitlines() if line.startswith("## ")]
    assert sections == ["## Params changed", "## Metrics", "## Cost (runs/*.json, new / base)", "## Plots"]
    assert "| `params.yaml` | `train.lr` | 0.1 | 0.2 |" in md
    assert "| `params.yaml` | `train.layers` | [1, 2] | [1, 2, 3] |" in md
    assert "| `metrics/finetuned.json` | `ft_acc` | 0.6 | 0.7 | +0.1 |" in md
    assert "| `metrics/baseline.json` | `base_acc` | 0.334 | 0.334 | — |" in md  # unchanged, collapsed
    # the summary leads with the largest ratio, whatever key a stage's log keeps its wall time under
    assert "Time, new / base: largest ratio **train 2.00x**; then compare 1.33x, evaluate_baseline 1.00x." in md
    assert "| train | stage_seconds | 600 | 1200 | 2.00x |" in md
    # a plot without a chart GitHub can draw still shows what changed
    assert "**Accuracy per slice**: `plots/compare/slices.csv`, changed rows base → new" in md
    assert "| all | finetuned | 10 | 0.6 → 0.7 |" in md and "| negation | finetuned | — → 4 | — → 0.5 |" in md
    assert "| all | baseline |" not in md
    assert "| train | peak_cpu_rss_gb | 1.5 | 1.5 | 1.00x |" in md
    # curves as a chart GitHub renders in the comment: base line first (grey), workspace second (blue)
    chart = md[md.index("```mermaid") : md.index("```", md.index("```mermaid") + 3)]
    assert '  x-axis "step" [40, 80, 113]' in chart
    assert '  title "Validation accuracy"' in chart and chart.count("  line [") == 2
    assert chart.index("  line [0.44, 0.48, 0.513]") < chart.index("  line [0.48, 0.56, 0.626]")
    assert "| entailment | 2 → 3 | 0 | 0 |" in md and "| neutral | 1 | 0 | 0 |" in md  # confusion counts
    assert "](" not in md  # no relative links that are dead in a PR comment
    assert (repo / "reports" / "pr_plots" / "index.html").is_file()
    assert not list((repo / "reports").glob(".pr.md.*.tmp")), "temp file left behind"


def test_report_without_changes_is_one_line(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "same.md"
    proc = _report(repo, "--base", "HEAD", "--out", str(out))
    assert proc.returncode == 0, proc.stderr

    lines = out.read_text().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("**No change vs `HEAD` (")
    assert "all 11 metrics and all params identical; accuracy 33.4% → 70.0%" in lines[0]


def test_first_line_says_so_when_no_quality_metric_moved(repo: Path, tmp_path: Path) -> None:
    """A change of params that moves no metric: the first line says nothing changed, not a fine-tune delta."""
    _git(repo, "checkout", "--quiet", "-b", "same-metrics", "feature")
    (repo / "params.yaml").write_text((repo / "params.yaml").read_text().replace("layers: [1, 2, 3]", "layers: [4]"))
    _commit_repro(repo, "layers only")
    try:
        proc = _report(repo, "--base", "feature", "--out", str(tmp_path / "pr.md"))
        assert proc.returncode == 0, proc.stderr
        first = (tmp_path / "pr.md").read_text().splitlines()[0]
        assert first.startswith("**No quality metric changed vs `feature` (") and first.endswith(").**")
    finally:
        _git(repo, "checkout", "--quiet", "feature")


def test_a_baseline_change_leads_the_report(repo: Path, tmp_path: Path) -> None:
    """A PR that moves the zero-shot baseline (few-shot prompts, say) leads with base_acc, not the new fine-tune Δ."""
    _git(repo, "checkout", "--quiet", "-b", "few-shot", "feature")
    _write_state(repo, lr=0.2, layers=[1, 2, 3], base=0.328)
    _commit_repro(repo, "baseline moves")
    try:
        proc = _report(repo, "--base", "feature", "--out", str(tmp_path / "pr.md"))
        assert proc.returncode == 0, proc.stderr
        md = (tmp_path / "pr.md").read_text()
        assert md.splitlines()[0].split(": ", 1)[1].startswith("base_acc 33.4% → 32.8%; delta +36.6 pp")
        assert "largest ratio **evaluate_baseline 2.00x**" in md
    finally:
        _git(repo, "checkout", "--quiet", "feature")


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


CHECK = SCRIPT.parent / "check_reproduced.py"


def test_committed_results_that_do_not_reproduce_fail_the_check(repo: Path) -> None:
    """scripts/check_reproduced.py after `dvc repro`: exit 0 when dvc.lock outs and metrics match the commit."""
    check = _run(repo, sys.executable, str(CHECK), "--rev", "HEAD")
    assert check.returncode == 0, check.stdout + check.stderr
    committed = (repo / "params.yaml").read_text()
    try:  # as if the PR's committed results came from other params than the ones committed
        (repo / "params.yaml").write_text(committed.replace("lr: 0.2", "lr: 0.3"))
        _dvc(repo, "repro", "--quiet")
        check = _run(repo, sys.executable, str(CHECK), "--rev", "HEAD")
        assert check.returncode == 2
        assert check.stderr.startswith("error: this PR's results do not reproduce: ")
        assert len(check.stderr.strip().splitlines()) == 1
        assert "metrics/finetuned.json: ft_acc 0.7 → 0.8" in check.stdout
        assert "train: plots/eval " in check.stdout  # the out's hash in dvc.lock
    finally:
        _git(repo, "checkout", "--quiet", "--", ".")
        _dvc(repo, "repro", "--quiet")
