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
    "plan_blocks_s9.json",
    "plan_curve_s9.json",
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


def test_the_phi2_bench_times_pipeline_sized_batches_in_the_order_it_built_them(tmp_path):
    """gpu_bench.pipeline_batches: a row warms up on the pool's longest batch (its peak memory is a run's), then times
    batches that pad as little as a whole run over the pool does (sessions 1-7's per-round draws padded 17.5% at 256)
    and whose mean length is the pool's, so rows of any batch size are timed on the same lengths; and the bench's
    Trainer hands them to the model in that order (the project's own sampler would regroup them)."""
    import torch

    from nli.core import config as cfg
    from nli.model import loading
    from nli.train import training

    spec = importlib.util.spec_from_file_location("gpu_bench", ROOT / "bench" / "gpu_bench.py")
    gpu_bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_bench)
    pool = gpu_bench.snli_like(gpu_bench.POOL, seed=1000)
    pool_mean = sum(map(len, pool)) / len(pool)
    for batch, micro in ((256, 256), (16, 4)):
        seqs = gpu_bench.pipeline_batches(batch, steps=6, warmup=2, seed=0)
        assert len(seqs) == 8 * batch and max(map(len, seqs[:batch])) == max(map(len, pool))
        timed = seqs[2 * batch :]
        chunks = [[len(s) for s in timed[k : k + micro]] for k in range(0, len(timed), micro)]
        padding = sum(max(c) * len(c) for c in chunks) / sum(map(sum, chunks)) - 1
        assert padding < 0.05, (batch, padding)
        assert abs(sum(map(len, timed)) / len(timed) - pool_mean) < 1.0, batch

    seqs = gpu_bench.pipeline_batches(16, steps=6, warmup=2, seed=0)
    examples = training.make_examples(seqs, [i % 3 for i in range(len(seqs))], gpu_bench.LABEL_IDS)
    p = {"lr": 1e-4, "epochs": 1, "max_steps": 8, "batch_size": 4, "grad_accum": 4, "eval_steps": 8, "seed": 0}
    p |= {"warmup_ratio": 0.0, "lr_scheduler": "constant", "weight_decay": 0.0, "optim": "adamw_torch"}
    runtime = loading.runtime(cfg.model_section(name="tiny-phi", device="cpu", compute_dtype="fp32"))
    args = training.training_arguments(
        {**p, "gradient_checkpointing": False}, output_dir=str(tmp_path), seed=0, runtime=runtime, total_steps=8,
        validate=False,
    )  # fmt: skip
    trainer = gpu_bench.FixedOrderTrainer(
        model=torch.nn.Linear(1, 1), args=args, train_dataset=examples,
        data_collator=training.make_collator(0, "right"), label_token_ids=gpu_bench.LABEL_IDS,
    )  # fmt: skip
    widths = [b["input_ids"].shape[1] for b in trainer.get_train_dataloader()]
    assert widths == [max(map(len, seqs[k : k + 4])) for k in range(0, len(seqs), 4)]
