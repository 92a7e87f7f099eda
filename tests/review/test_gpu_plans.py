"""What a GPU session sends must run there: device time is scarce, and a params file that no longer matches the
code costs a whole call (session 3's Phi-2 DDP bench failed at the params check in every launch). These checks run
the same validation the stages run, on CPU, before anything is sent."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT

from nli.core import config
from nli.core.errors import UserError

spec = importlib.util.spec_from_file_location("pipeline_runs", ROOT / "bench" / "pipeline_runs.py")
pipeline_runs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pipeline_runs)

PLANS = [  # the newest sessions' plans
    "plan_a_s4.json",
    "plan_alone_s4.json",
    "plan_blocks_s5.json",
    "plan_alone_s5.json",
    "plan_seeds_s5.json",
]


def composed_runs(plan_name: str):
    plan = json.loads((ROOT / "bench" / "gpu_session" / plan_name).read_text())
    base = yaml.safe_load((ROOT / plan["base"]).read_text())
    for phase in plan["phases"]:
        for name, own in phase["runs"].items():
            overrides = {k: v for k, v in own.items() if not k.startswith("_")}  # _slot, _from: the harness's
            yield f"{phase['name']}/{name}", pipeline_runs.compose(base, overrides)


@pytest.mark.parametrize("plan_name", PLANS)
def test_every_run_of_the_gpu_plans_composes_to_params_the_stages_accept(tmp_path, plan_name):
    runs = list(composed_runs(plan_name))
    assert runs
    for name, params in runs:
        path = tmp_path / f"{name.replace('/', '__')}.yaml"
        path.write_text(yaml.safe_dump(params, sort_keys=False))
        config.load(path, list(config.SECTIONS))  # raises UserError (file, param, fix) on anything the stages refuse


def test_a_mistyped_override_in_a_plan_is_caught(tmp_path):
    _, params = next(composed_runs(PLANS[0]))
    params = pipeline_runs.compose(params, {"train.swap_contradiction": True})  # one letter short
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(params))
    with pytest.raises(UserError, match="swap_contradiction"):
        config.load(path, list(config.SECTIONS))


def test_the_phi2_ddp_params_load_for_the_stages_the_bench_runs():
    # bench/ddp_scaling.py runs the split and train stages on it
    config.load(
        ROOT / "bench" / "gpu_session" / "params_phi2_ddp.yaml", ["data", "split", "model", "prompt", "train", "lora"]
    )


def test_the_phi2_bench_runs_end_to_end_on_cpu(tmp_path):
    """bench/gpu_bench.py's CPU dry run (tiny Phi, every default row, one short round): the script a GPU call starts
    runs through, every row finite, the padding layouts give the same answers."""
    out = tmp_path / "bench.json"
    argv = [sys.executable, str(ROOT / "bench" / "gpu_bench.py"), "--dry-run-cpu", "--out", str(out), "--steps", "2",
            "--warmup-steps", "1", "--rounds", "1", "--eval-examples", "32"]  # fmt: skip
    subprocess.run(argv, check=True, capture_output=True, cwd=tmp_path, timeout=600)
    rows = {r["key"]: r for r in json.loads(out.read_text())["rows"]}
    assert set(rows) == {"report", "fast", "fast-left", "low-mem-8bit", "low-mem-fast"}
    assert all(r["all_finite"] for r in rows.values())
    assert rows["report"]["train_speedup_vs_report_config"] == 1.0
    assert all(r["correctness"]["right_vs_left_padded_max_abs"] == 0.0 for r in rows.values())
