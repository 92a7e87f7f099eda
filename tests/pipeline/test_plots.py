"""The project's DVC plots, rendered: confusion panels show their own counts in `dvc plots diff`, offline HTML.

A throw-away git + DVC repo gets the project's templates (.dvc/plots), its plots HTML page setting and its
`plots:` entries from dvc.yaml; the Vega-Lite specs that `dvc plots diff --json` produces are rendered
headless by node with the vega/vega-lite inlined in .dvc/plots/offline.html, and the rendered text is read
back by position: each count under the column header (revision) and row header (file) it is drawn under.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

NODE = shutil.which("node")
LABELS = ("entailment", "neutral", "contradiction")
ENV = {**os.environ, "DVC_NO_ANALYTICS": "1", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
COMMITTED = {
    "baseline.csv": [("entailment", "entailment"), ("neutral", "entailment"), ("contradiction", "entailment")],
    "finetuned.csv": [("entailment", "entailment")] * 3 + [("neutral", "neutral"), ("contradiction", "neutral")],
}
WORKSPACE = {
    "baseline.csv": [("contradiction", "neutral")] * 2 + [("entailment", "contradiction")],
    "finetuned.csv": [("neutral", "neutral")] * 4 + [("contradiction", "contradiction")] * 5,
}


def sh(repo: Path, *cmd: str) -> str:
    done = subprocess.run(cmd, cwd=repo, env=ENV, capture_output=True, text=True)
    assert done.returncode == 0, f"{cmd}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


def write_confusion(repo: Path, rows: dict[str, list[tuple[str, str]]]) -> None:
    for name, pairs in rows.items():
        path = repo / "plots" / "confusion" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("gold,predicted\n" + "".join(f"{g},{p}\n" for g, p in pairs))


def project_plots(*names: str) -> list[dict]:
    entries = yaml.safe_load((ROOT / "dvc.yaml").read_text())["plots"]
    return [e for e in entries if isinstance(e, dict) and next(iter(e)) in names]


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("plots")
    sh(repo, "git", "init", "-q")
    sh(repo, sys.executable, "-m", "dvc", "init", "-q")
    shutil.copytree(ROOT / ".dvc" / "plots", repo / ".dvc" / "plots")
    plots_section = re.search(r"^\[plots\]\n(?:[ \t]+.*\n?)+", (ROOT / ".dvc" / "config").read_text(), re.M)
    assert plots_section, ".dvc/config has no [plots] section"
    with open(repo / ".dvc" / "config", "a") as f:
        f.write(plots_section.group(0).rstrip("\n") + "\n")
    (repo / "dvc.yaml").write_text(yaml.safe_dump({"plots": project_plots("confusion", "calibration")}))
    write_confusion(repo, COMMITTED)
    calibration = repo / "plots" / "compare" / "calibration.csv"
    calibration.parent.mkdir(parents=True)
    calibration.write_text(
        "model,bin,n,confidence,accuracy\nbaseline,0.3-0.4,10,0.35,0.3\nbaseline,0.4-0.5,5,0.45,0.6\n"
        "finetuned,0.8-0.9,12,0.85,0.8\n"
    )
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "committed counts")
    write_confusion(repo, WORKSPACE)
    return repo


def render(repo: Path, spec: dict) -> list[dict]:
    path = repo / "spec.json"
    path.write_text(json.dumps(spec))
    page = ROOT / ".dvc" / "plots" / "offline.html"
    return json.loads(sh(repo, NODE, str(ROOT / "tests" / "pipeline" / "render_vega.js"), str(page), str(path)))


def nearest(texts: list[dict], coord: str, value: float) -> str:
    return min(texts, key=lambda t: abs(t[coord] - value))["text"]


@pytest.mark.skipif(NODE is None, reason="needs node to render Vega")
def test_confusion_diff_panels_show_their_own_counts(repo):
    diff = json.loads(sh(repo, sys.executable, "-m", "dvc", "plots", "diff", "HEAD", "--json"))
    (plot,) = diff["data"]["confusion"]
    assert "sort" not in json.dumps(plot["content"]["facet"])  # the Vega-Lite facet-sort bug's trigger
    texts = render(repo, plot["content"])

    def headers(role: str) -> list[dict]:
        return [t for t in texts if f"/{role}/" in t["path"] and t["path"].endswith("title-text")]

    columns, rows = headers("column-header"), headers("row-header")
    assert sorted(t["text"] for t in columns) == ["HEAD", "workspace"]
    assert sorted(t["text"] for t in rows) == ["baseline.csv", "finetuned.csv"]
    x_labels = [t for t in texts if "/column-footer/" in t["path"] and t["path"].endswith("axis-label")]
    y_labels = [t for t in texts if "/row-header/" in t["path"] and t["path"].endswith("axis-label")]
    shown: dict[tuple[str, str], Counter] = {}
    for cell in (t for t in texts if "/scope/" in t["path"]):  # the count drawn in each matrix cell
        panel = (nearest(columns, "x", cell["x"]), nearest(rows, "y", cell["y"]))
        gold, predicted = nearest(y_labels, "y", cell["y"]), nearest(x_labels, "x", cell["x"])
        shown.setdefault(panel, Counter())[(gold, predicted)] += int(cell["text"])
    expected = {
        (rev, name): Counter(pairs)
        for rev, data in (("HEAD", COMMITTED), ("workspace", WORKSPACE))
        for name, pairs in data.items()
    }
    assert {panel: +counts for panel, counts in shown.items()} == expected


@pytest.mark.skipif(NODE is None, reason="needs node to render Vega")
def test_reliability_diagram_renders_one_point_per_bin(repo):
    shown = json.loads(sh(repo, sys.executable, "-m", "dvc", "plots", "show", "--json"))
    (plot,) = shown["data"]["calibration"]
    points = [t for t in render(repo, plot["content"]) if t["kind"] == "point" and "legend" not in t["path"]]
    assert len(points) == 3


def test_plots_html_renders_offline(repo, tmp_path):
    sh(repo, sys.executable, "-m", "dvc", "plots", "diff", "HEAD", "--out", str(tmp_path / "html"))
    page = (tmp_path / "html" / "index.html").read_text()
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I), "the page loads a script from elsewhere"
    assert "http" not in "".join(re.findall(r"<script[^>]*>", page, re.I))
    for library in ("vega@5", "vega-lite@5", "vega-embed@6"):
        assert f"/* {library}" in page
    assert page.count("vegaEmbed('#") == 2  # both plots embedded
