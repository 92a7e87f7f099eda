"""The train stage on a tiny model: it learns, saves a loadable PEFT adapter, and resumes exactly."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
import train as train_stage  # the stage script itself (stages/ is on pytest's pythonpath)
from conftest import ROOT, make_pairs, tiny_params, write_jsonl
from safetensors.torch import load_file
from transformers import TrainerCallback


@pytest.fixture
def split_dir(tmp_path: Path) -> Path:
    for name, n, seed in (("train", 48, 3), ("val", 24, 4)):
        rows = [dict(r, id=f"{name}-{i:06d}") for i, r in enumerate(make_pairs(n, seed))]
        write_jsonl(tmp_path / "split" / f"{name}.jsonl", rows)
    return tmp_path / "split"


def run(tmp_path, split_dir, params_file, name, callbacks=(), **overrides):
    out = tmp_path / name
    argv = [
        "--params",
        str(params_file(tiny_params(**overrides))),
        "--train",
        str(split_dir / "train.jsonl"),
        "--val",
        str(split_dir / "val.jsonl"),
        "--adapter-dir",
        str(out / "adapter"),
        "--metrics",
        str(out / "train.json"),
        "--run-log",
        str(out / "run.json"),
        "--live-dir",
        str(out / "live"),
        "--checkpoints",
        str(tmp_path / "ckpt"),
    ]
    train_stage.main(argv, callbacks=callbacks)
    return out


def record(out: Path, metrics: str = "train.json", run_log: str = "run.json") -> dict:
    """The stage's quality metrics, run info and cost, in one dict."""
    log = json.loads((out / run_log).read_text())
    return {**json.loads((out / metrics).read_text()), **log["info"], **log["cost"]}


def test_train_saves_a_peft_adapter_and_metrics(tmp_path, split_dir, params_file):
    from peft import PeftModel

    from nli import modeling

    out = run(tmp_path, split_dir, params_file, "a")
    assert {"adapter_config.json", "adapter_model.safetensors"} <= {p.name for p in (out / "adapter").iterdir()}
    assert set(json.loads((out / "train.json").read_text())) == {
        "best_val_accuracy",
        "best_val_loss",
        "trainable_params",
    }  # quality only: diffable
    m = record(out)
    for key in (
        "train_seconds",
        "examples_per_second",
        "total_params",
        "total_params_raw_numel",
        "trainable_params",
        "trainable_percent",
        "peak_cpu_rss_gb",
        "device",
        "quantization",
        "best_val_accuracy",
    ):
        assert key in m, key
    assert m["steps"] == 6 and m["quantization"].startswith("nf4+double-quant")
    base = modeling.load(tiny_params()["model"]).model
    model = PeftModel.from_pretrained(base, str(out / "adapter"))
    assert sum(p.numel() for n, p in model.named_parameters() if "lora_" in n) == m["trainable_params"]
    assert (out / "live" / "plots" / "metrics" / "eval" / "accuracy.tsv").is_file()
    assert not list((tmp_path / "ckpt").glob("train-*"))  # finished runs leave no checkpoints


def test_loss_goes_down_on_learnable_data(tmp_path, split_dir, params_file):
    out = run(tmp_path, split_dir, params_file, "learn", train__max_steps=12, train__lr=0.01, train__eval_steps=12)
    loss = (out / "live" / "plots" / "metrics" / "train" / "loss.tsv").read_text().split("\n")[1:]
    values = [float(row.split("\t")[1]) for row in loss if row]
    assert values[-1] < values[0] - 0.3, values  # from ~ln(vocab) towards the label tokens


class Interrupt(TrainerCallback):
    """Simulates a crash (Ctrl-C, pre-emption) right after a given step."""

    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise KeyboardInterrupt


def test_interrupted_training_resumes_to_the_same_adapter(tmp_path, split_dir, params_file):
    straight = run(tmp_path, split_dir, params_file, "straight")
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, split_dir, params_file, "resumed", callbacks=[Interrupt(3)])
    assert not (tmp_path / "resumed" / "adapter").exists()  # nothing half-written
    assert list((tmp_path / "ckpt").glob("train-*/checkpoint-2"))
    resumed = run(tmp_path, split_dir, params_file, "resumed")
    m = record(resumed)
    assert m["resumed_from_step"] == 2
    a = load_file(straight / "adapter" / "adapter_model.safetensors")
    b = load_file(resumed / "adapter" / "adapter_model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6)
    s = record(straight)
    assert (m["best_step"], m["best_val_accuracy"]) == (s["best_step"], s["best_val_accuracy"])


def test_train_runs_unchanged_under_torchrun(tmp_path, split_dir, params_file):
    """Data-parallel: two CPU processes (gloo) run the unchanged stage; rank 0 alone writes outputs."""
    import subprocess

    torchrun = Path(sys.executable).parent / "torchrun"
    result = subprocess.run(
        [
            str(torchrun),
            "--nproc_per_node",
            "2",
            str(ROOT / "stages/train.py"),
            "--params",
            str(params_file(tiny_params())),
            "--train",
            str(split_dir / "train.jsonl"),
            "--val",
            str(split_dir / "val.jsonl"),
            "--adapter-dir",
            str(tmp_path / "adapter"),
            "--metrics",
            str(tmp_path / "train.json"),
            "--run-log",
            str(tmp_path / "run.json"),
            "--live-dir",
            str(tmp_path / "live"),
            "--checkpoints",
            str(tmp_path / "ckpt"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    m = record(tmp_path)
    assert m["effective_batch_size"] == 16 and m["steps"] == 6 and m["examples_seen"] == 96  # 2 epochs of 48
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file()


def test_adapter_files_do_not_depend_on_the_hash_seed(tmp_path, split_dir, params_file):
    """Same params and data give byte-identical adapter files whatever PYTHONHASHSEED is (DVC hashes them)."""
    import os
    import subprocess

    params = params_file(tiny_params(lora__target_modules="all-linear"))
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"hash{seed}"
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "stages/train.py"),
                "--params",
                str(params),
                "--train",
                str(split_dir / "train.jsonl"),
                "--val",
                str(split_dir / "val.jsonl"),
                "--adapter-dir",
                str(out),
                "--metrics",
                str(tmp_path / "m.json"),
                "--run-log",
                str(tmp_path / "run.json"),
                "--live-dir",
                "",
                "--checkpoints",
                str(tmp_path / "ck"),
            ],
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        outputs.append({p.name: p.read_bytes() for p in out.iterdir()})
    assert outputs[0] == outputs[1]
