"""The train stage on a tiny model: it learns, saves a loadable PEFT adapter, and resumes exactly."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import torch
import train as train_stage  # the stage script itself (stages/ is on pytest's pythonpath)
from conftest import ROOT, make_pairs, tiny_params, write_jsonl
from safetensors.torch import load_file
from transformers import TrainerCallback

from nli.core import config
from nli.core.errors import UserError
from nli.train import launch


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

    from nli.model import loading

    out = run(tmp_path, split_dir, params_file, "a")
    assert {"adapter_config.json", "adapter_model.safetensors"} <= {p.name for p in (out / "adapter").iterdir()}
    assert set(json.loads((out / "train.json").read_text())) == {"val_acc", "val_loss"}  # quality only: diffable
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
        "val_acc",
    ):
        assert key in m, key
    assert m["steps"] == 6 and m["quantization"].startswith("nf4+double-quant")
    base = loading.load(tiny_params()["model"]).model
    model = PeftModel.from_pretrained(base, str(out / "adapter"))
    assert sum(p.numel() for n, p in model.named_parameters() if "lora_" in n) == m["trainable_params"]
    assert (out / "live" / "plots" / "metrics" / "eval" / "accuracy.tsv").is_file()
    assert not list((tmp_path / "ckpt").glob("train-*"))  # finished runs leave no checkpoints


def test_loss_goes_down_on_learnable_data(tmp_path, split_dir, params_file):
    out = run(tmp_path, split_dir, params_file, "learn", train__max_steps=12, train__lr=0.01, train__eval_steps=12)
    loss = (out / "live" / "plots" / "metrics" / "loss.tsv").read_text().split("\n")[1:]
    values = [float(row.split("\t")[1]) for row in loss if row]
    assert values[-1] < values[0] - 0.3, values  # from ~ln(vocab) towards the label tokens


class Interrupt(TrainerCallback):
    """Simulates a crash (Ctrl-C, pre-emption) right after a given step."""

    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise KeyboardInterrupt


class LastWeights(TrainerCallback):
    """Keeps a copy of the LoRA weights after the last optimizer step (before the best is reloaded)."""

    weights: dict

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step == state.max_steps:
            self.weights = {k: v.detach().clone() for k, v in model.named_parameters() if "lora_" in k}


def test_interrupted_training_resumes_to_the_same_adapter_bytes(tmp_path, split_dir, params_file):
    """Kill after a checkpoint, rerun: the same adapter bytes (atol 0) as an uninterrupted run.

    The kept (best) adapter may predate the interruption, so the LoRA weights after the last step are
    compared too. Validation runs before the interruption, which is where bitsandbytes used to repack the
    4-bit weights for CPU in place (and the resumed run, loading fresh weights, did not).
    """
    over = dict(train__max_steps=10, train__eval_steps=4, train__lr=0.01)
    last = [LastWeights(), LastWeights()]
    straight = run(tmp_path, split_dir, params_file, "straight", callbacks=[last[0]], **over)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, split_dir, params_file, "resumed", callbacks=[Interrupt(6)], **over)
    assert not (tmp_path / "resumed" / "adapter").exists()  # nothing half-written
    [checkpoint] = list((tmp_path / "ckpt").glob("train-*/checkpoint-4"))
    before_kill = json.loads((checkpoint / "run_totals.json").read_text())["train_seconds"]
    partial = checkpoint.parent / "checkpoint-8"  # a later checkpoint a kill cut short: skipped, not resumed from
    shutil.copytree(checkpoint, partial)
    (partial / "trainer_state.json").unlink()
    resumed = run(tmp_path, split_dir, params_file, "resumed", callbacks=[last[1]], **over)
    assert not partial.exists() or (partial / "trainer_state.json").is_file()  # removed (or rewritten at step 8)
    m, s = record(resumed), record(straight)
    assert m["resumed_from_step"] == 4
    assert last[0].weights.keys() == last[1].weights.keys() and last[0].weights
    for key, value in last[0].weights.items():
        assert torch.equal(value, last[1].weights[key]), (key, (value - last[1].weights[key]).abs().max())
    a = load_file(straight / "adapter" / "adapter_model.safetensors")
    b = load_file(resumed / "adapter" / "adapter_model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), (key, (a[key] - b[key]).abs().max())
    assert (m["best_step"], m["val_acc"]) == (s["best_step"], s["val_acc"])
    # whole-run figures and curves, not just the part after the resume
    for key in ("steps", "examples_seen", "final_train_loss"):
        assert m[key] == s[key], key
    assert m["train_seconds"] > before_kill > 0  # the seconds before the kill count too
    for curve in ("loss.tsv", "eval/loss.tsv", "eval/accuracy.tsv"):
        straight_rows = (straight / "live" / "plots" / "metrics" / curve).read_text()
        assert (resumed / "live" / "plots" / "metrics" / curve).read_text() == straight_rows, curve
    rows = (straight / "live" / "plots" / "metrics" / "loss.tsv").read_text().splitlines()
    assert [int(r.split("\t")[0]) for r in rows[1:]] == [1, 4, 8, 10]  # at their optimizer steps, the last one too
    assert not list((straight / "live" / "plots" / "metrics").glob("*runtime*"))


class PoisonWeights(TrainerCallback):
    """Turns one LoRA weight into NaN before a given step, as a diverging run would."""

    def __init__(self, step: int):
        self.step = step

    def on_step_begin(self, args, state, control, model=None, **kwargs):
        if state.global_step + 1 == self.step:
            with torch.no_grad():
                next(p for n, p in model.named_parameters() if "lora_B" in n).fill_(float("nan"))


def test_non_finite_loss_stops_training_and_writes_no_adapter(tmp_path, split_dir, params_file):
    from nli.core.errors import UserError

    with pytest.raises(
        UserError,
        match=r"training diverged at step 3: loss not finite.*no adapter was written.*"
        r"Lower train.lr \(e.g. to 0.0002\)( or set model.compute_dtype: fp32)?$",
    ):
        run(tmp_path, split_dir, params_file, "nan", callbacks=[PoisonWeights(3)])
    assert not (tmp_path / "nan" / "adapter").exists()
    assert not list((tmp_path / "ckpt").glob("train-*/checkpoint-3")) and not (tmp_path / "nan" / "train.json").exists()


def test_train_gpus_relaunches_the_stage_under_torchrun(tmp_path, split_dir, params_file, monkeypatch):
    """train.gpus: 2 from a plain start: the stage reruns itself under torch.distributed.run, two processes
    (gloo on CPU here: the GPU-count check is lifted for the test), one optimizer step's batch shared between
    them; rank 0 alone writes outputs."""
    calls = []
    real = launch.torchrun_command
    monkeypatch.setattr(launch, "check_gpus", lambda *a: None)
    monkeypatch.setattr(launch, "torchrun_command", lambda *a, **k: calls.append(a) or real(*a, **k))
    out = run(tmp_path, split_dir, params_file, "ddp", train__gpus=2)
    assert len(calls) == 1 and calls[0][0] == 2 and calls[0][1].endswith("stages/train.py")
    m = record(out)
    assert m["processes"] == 2 and m["effective_batch_size"] == 16  # tiny: batch 8 x accumulation 2, 4 a process
    assert m["steps"] == 6 and m["examples_seen"] == 96  # 6 steps of 16: two epochs of 48, as on one process
    assert (out / "adapter" / "adapter_model.safetensors").is_file()


def test_train_gpus_command_and_errors(monkeypatch):
    cmd = launch.torchrun_command(4, "stages/train.py", ["--params", "p.yaml"], python="py")
    assert cmd == ["py", "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=4", "stages/train.py",
                   "--params", "p.yaml"]  # fmt: skip
    assert launch.relaunch(1, "cuda", "x.py", []) is None  # one GPU: train in this process
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert launch.relaunch(2, "cuda", "x.py", []) is None  # started by torchrun: never again
    with pytest.raises(UserError, match="needs CUDA GPUs"):
        launch.check_gpus(2, "cpu", 0)
    with pytest.raises(UserError, match="1 GPU.s. are visible"):
        launch.check_gpus(2, "cuda", 1)


def test_train_gpus_must_split_the_batch(tmp_path, params_file):
    with pytest.raises(UserError, match="batch_size = 8 does not split evenly over train.gpus = 3"):
        config.load(params_file(tiny_params(train__gpus=3)), ["train"])


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


def test_freed_memory_goes_back_to_the_os_after_every_step_and_validation(
    tmp_path, split_dir, params_file, monkeypatch
):
    """glibc keeps freed heap blocks resident: with trims only around validations and checkpoints the SmolLM2
    train stage peaked at 3.06-3.23 GiB for ~0.8 GB live between steps; a trim after every step: 2.80 GiB."""
    from nli.train import callbacks

    calls = []
    real_init = callbacks.ReleaseFreedMemory.__init__

    def counting_init(self):
        real_init(self)
        assert self.trim is not None  # glibc here
        self.trim = lambda pad: calls.append(pad)

    monkeypatch.setattr(callbacks.ReleaseFreedMemory, "__init__", counting_init)
    trims_by_step, evals = [], []

    class Steps(TrainerCallback):  # runs after ReleaseFreedMemory in the stage's callback list
        def on_step_end(self, args, state, control, **kwargs):
            trims_by_step.append(len(calls))

        def on_evaluate(self, args, state, control, **kwargs):
            evals.append(len(calls))

    run(tmp_path, split_dir, params_file, "trim", callbacks=[Steps()])
    assert len(trims_by_step) == 6 and len(evals) == 3  # the tiny profile: 6 steps, validation every 2
    assert all(b > a for a, b in zip([0, *trims_by_step], trims_by_step))  # a trim at each step's end
    assert all(n > trims_by_step[2 * i + 1] for i, n in enumerate(evals))  # and again after each validation


def test_adapters_take_their_input_in_the_compute_dtype_with_the_same_adapter_bytes(
    tmp_path, split_dir, params_file, monkeypatch
):
    """PEFT casts each adapter's input to its fp32 weight's dtype; under autocast the matmul casts it straight
    back, so without LoRA dropout the fp32 copy bought nothing but one more saved input per adapted layer (0.2 GiB
    of the SmolLM2 CPU step's peak). Training then leaves the input as it is: the adapter is bit for bit the same."""
    import peft.helpers

    seen = set()

    class AdapterInputs(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kwargs):
            for name, module in model.named_modules():
                if name.endswith("lora_A.default"):
                    module.register_forward_pre_hook(lambda m, inputs: seen.add(inputs[0].dtype))

    def train(name, **overrides):
        seen.clear()
        out = run(tmp_path, split_dir, params_file, name, [AdapterInputs()], model__compute_dtype="bf16", **overrides)
        return seen.copy(), (out / "adapter/adapter_model.safetensors").read_bytes()

    lean_inputs, lean = train("lean", lora__dropout=0.0)
    assert lean_inputs == {torch.bfloat16}
    # with dropout the input is scaled first, in fp32 as before: bf16 would round it differently
    assert train("dropout", lora__dropout=0.05)[0] == {torch.float32}

    disable = peft.helpers.disable_input_dtype_casting  # PEFT's default: the cast stays on
    monkeypatch.setattr(peft.helpers, "disable_input_dtype_casting", lambda m, active=True: disable(m, False))
    cast_inputs, cast = train("cast", lora__dropout=0.0)
    assert cast_inputs == {torch.float32} and cast == lean


class FirstGradNorm(TrainerCallback):
    """The gradient norm Trainer logs for the first optimizer step (before clipping)."""

    norm = None

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.norm is None and "grad_norm" in (logs or {}):
            self.norm = float(logs["grad_norm"])


def test_accumulated_micro_batches_average_to_the_whole_batch_gradient(tmp_path, split_dir, params_file):
    """Our loss is a per-micro-batch mean; Trainer must divide it by the accumulation steps (``loss_is_scaled_for_ga``,
    docs/internals.md), so 4 x 2 gives the gradient of 8 x 1. A Trainer that took the loss as already scaled (as it
    does for models that accept loss kwargs) would double it."""
    norms = []
    for batch, accum in ((8, 1), (4, 2)):
        seen = FirstGradNorm()
        over = dict(train__batch_size=batch, train__grad_accum=accum, train__max_steps=1, lora__dropout=0.0)
        over |= dict(model__compute_dtype="fp32")
        run(tmp_path, split_dir, params_file, f"ga{accum}", callbacks=[seen], **over)
        norms.append(seen.norm)
    assert norms[0] > 0 and norms[1] == pytest.approx(norms[0], rel=1e-4), norms


class InfiniteGradients(TrainerCallback):
    """Makes one LoRA weight's gradient infinite during a given step; the loss stays finite."""

    def __init__(self, step: int):
        self.step, self.handle = step, None

    def on_step_begin(self, args, state, control, model=None, **kwargs):
        if state.global_step + 1 == self.step:
            p = next(p for n, p in model.named_parameters() if "lora_B" in n)
            self.handle = p.register_hook(lambda g: torch.full_like(g, float("inf")))


def test_non_finite_gradients_stop_training_before_the_update(tmp_path, split_dir, params_file):
    """The check runs at Trainer's public ``on_pre_optimizer_step`` event: a finite loss with infinite gradients
    stops the run at that step, before the optimizer applies them, and no adapter is written."""
    from nli.core.errors import UserError

    with pytest.raises(UserError, match=r"training diverged at step 2: loss finite, gradient norm (nan|inf)"):
        run(tmp_path, split_dir, params_file, "inf", callbacks=[InfiniteGradients(2)])
    assert not (tmp_path / "inf" / "adapter").exists()


def test_training_order_is_the_epoch_seeded_length_grouped_one():
    """The order the adapter's bytes depend on: our copy of the length-grouped shuffle, pinned here (it is what
    transformers' ``get_length_grouped_indices`` gave with the same generator when it was copied)."""
    from nli.train import training

    lengths = [30, 15, 27, 16, 4, 11, 19, 18, 15, 28, 29, 12, 18, 14, 21, 9, 19, 7, 12, 7]
    order = training.length_grouped_indices(lengths, 2, torch.Generator().manual_seed(7))
    assert order == [0, 12, 15, 17, 7, 3, 1, 19, 8, 11, 18, 4, 9, 2, 14, 16, 10, 6, 13, 5]
    sampler = training.EpochSeededLengthSampler(2, lengths, seed=5)
    sampler.set_epoch(2)
    assert list(sampler) == training.length_grouped_indices(lengths, 2, torch.Generator().manual_seed(7))


def test_trainer_takes_its_training_order_from_our_sampler():
    """Guards the ``_get_train_sampler`` override (docs/internals.md): Trainer's own dataloader must yield batches in
    the epoch-seeded order, whatever state the global RNG is in."""
    from nli.model import loading
    from nli.train import training

    loaded = loading.load({"name": "tiny-llama", "quantization": {"load_in_4bit": False}})
    lengths = [3 + (7 * i) % 11 for i in range(24)]
    rows = [{"input_ids": [5 + i] * n, "labels": 0} for i, n in enumerate(lengths)]  # last token names the row
    p = tiny_params()["train"] | {"batch_size": 4, "grad_accum": 1, "max_steps": 2}
    trainer = training.LabelTokenTrainer(
        model=loaded.model,
        args=training.training_arguments(
            p, output_dir="unused", seed=11, runtime=loaded.runtime, total_steps=2, validate=False
        ),
        train_dataset=rows,
        data_collator=training.make_collator(0),
        label_token_ids=[0, 1, 2],
    )
    torch.manual_seed(123)  # the stock sampler would draw from here
    seen = [int(t) - 5 for batch in trainer.get_train_dataloader() for t in batch["input_ids"][:, -1]]
    assert seen == training.length_grouped_indices(lengths, 4, torch.Generator().manual_seed(11))


def test_train_seed_drives_training_and_the_split_seed_does_not(tmp_path, split_dir, params_file):
    """A sweep over train.seed must change the run on the same split; the top-level seed (the split's) must not."""
    from nli.core import config
    from nli.train import training

    def adapter(name, **overrides):
        out = run(tmp_path, split_dir, params_file, name, **overrides)
        params = config.load(tmp_path / "params.yaml", train_stage.SECTIONS)  # the file run() just wrote
        fp = training.fingerprint(params, train_stage.SECTIONS, [split_dir / "train.jsonl", split_dir / "val.jsonl"])
        return (out / "adapter" / "adapter_model.safetensors").read_bytes(), fp

    base, fp_base = adapter("base")
    other_split_seed, fp_split = run_with_top_level_seed(tmp_path, split_dir, params_file)
    other_train_seed, fp_train = adapter("train7", train__seed=7)
    assert other_split_seed == base and fp_split == fp_base
    assert other_train_seed != base and fp_train != fp_base


def run_with_top_level_seed(tmp_path, split_dir, params_file):
    from nli.core import config
    from nli.train import training

    params = tiny_params()
    params["seed"] = params["seed"] + 1
    out = tmp_path / "split7"
    path = params_file(params)
    argv = ["--params", str(path), "--train", str(split_dir / "train.jsonl"), "--val", str(split_dir / "val.jsonl")]
    argv += ["--adapter-dir", str(out / "adapter"), "--metrics", str(out / "m.json"), "--run-log", str(out / "r.json")]
    train_stage.main([*argv, "--live-dir", "", "--checkpoints", str(tmp_path / "ckpt")])
    typed = config.load(path, train_stage.SECTIONS)
    fp = training.fingerprint(typed, train_stage.SECTIONS, [split_dir / "train.jsonl", split_dir / "val.jsonl"])
    return (out / "adapter" / "adapter_model.safetensors").read_bytes(), fp


def test_a_deferred_finite_check_stops_at_the_next_read_before_any_save(tmp_path, split_dir, params_file, monkeypatch):
    """On a GPU the flags are read every few steps (``check_interval``): a loss gone NaN at step 2 stops the run at
    the next read (step 4 here), before the first validation and checkpoint (step 5), and no adapter is written."""
    from nli.train import training

    assert training.check_interval(type("A", (), {"device": torch.device("cpu")})()) == 1  # CPU: every step
    assert training.check_interval(type("A", (), {"device": torch.device("cuda", 0)})()) == 10
    monkeypatch.setattr(training, "check_interval", lambda args: 4)
    with pytest.raises(UserError, match=r"training diverged at or before step 4: a loss or gradient norm not finite"):
        run(tmp_path, split_dir, params_file, "late", callbacks=[PoisonWeights(2)], train__eval_steps=5)
    assert not (tmp_path / "late" / "adapter").exists() and not list((tmp_path / "ckpt").glob("train-*/checkpoint-*"))


def test_label_smoothing_spreads_part_of_the_loss_over_the_label_tokens():
    """train.label_smoothing e: (1 - e) x the cross-entropy of the gold token + e x the mean -log p of the three label
    tokens; 0 is the plain cross-entropy, computed as before (the CPU default's numbers)."""
    import torch.nn.functional as F

    from nli.model import loading
    from nli.train import training

    loaded = loading.load({"name": "tiny-llama", "quantization": {"load_in_4bit": False}})
    batch = training.make_collator(loaded.tokenizer.pad_token_id)(
        [{"input_ids": list(range(5, 5 + n)), "labels": t} for n, t in ((6, 11), (3, 12), (4, 13))]
    )
    label_ids = [11, 12, 13]
    with torch.no_grad():
        logits = scoring_logits(loaded.model, batch)
        losses = {
            e: training.LabelTokenTrainer.compute_loss(
                type("T", (), {"label_smoothing": e, "label_token_ids": label_ids})(), loaded.model, batch
            )
            for e in (0.0, 0.2)
        }
    plain = F.cross_entropy(logits, batch["labels"])
    spread = -torch.log_softmax(logits, -1)[:, label_ids].mean()
    assert torch.equal(losses[0.0], plain)
    torch.testing.assert_close(losses[0.2], 0.8 * plain + 0.2 * spread)
    assert not torch.allclose(losses[0.2], plain)


def scoring_logits(model, batch):
    from nli.model import scoring

    return scoring.answer_logits(model, {k: v for k, v in batch.items() if k != "labels"})


def test_neftune_and_the_nan_filter_reach_the_training_arguments():
    """train.neftune_alpha goes to Trainer's neftune_noise_alpha (0: off, as before); Trainer's NaN filter is off
    (a non-finite loss stops the run anyway; the filter only cost a host sync per micro-batch)."""
    from nli.model import loading
    from nli.train import training

    runtime = loading.Runtime(device="cpu", dtype=torch.float32, quantization=None)
    train = dict(tiny_params()["train"])
    args = {
        a: training.training_arguments(
            {**train, "neftune_alpha": a}, output_dir="unused", seed=1, runtime=runtime, total_steps=6
        )
        for a in (0.0, 5.0)
    }
    assert args[0.0].neftune_noise_alpha is None and args[5.0].neftune_noise_alpha == 5.0
    assert args[0.0].logging_nan_inf_filter is False


def test_a_run_with_label_smoothing_and_neftune_trains_and_differs(tmp_path, split_dir, params_file):
    """Both regularisers run through the stage (NEFTune's hook finds the embeddings under PEFT) and change the
    adapter."""
    plain = run(tmp_path, split_dir, params_file, "plain")
    noisy = run(tmp_path, split_dir, params_file, "noisy", train__label_smoothing=0.1, train__neftune_alpha=5.0)
    a, b = (load_file(o / "adapter" / "adapter_model.safetensors") for o in (plain, noisy))
    assert a.keys() == b.keys() and any(not torch.equal(a[k], b[k]) for k in a)


def test_swap_contradictions_adds_each_contradiction_pair_read_backwards():
    from nli.train import augment

    rows = [
        {"id": f"r{i}", "premise": f"p{i}", "hypothesis": f"h{i}", "label": label}
        for i, label in enumerate([0, 1, 2, 2, 0])
    ]
    out = augment.swap_contradictions(rows)
    assert out[:5] == rows  # the originals first, untouched
    assert out[5:] == [
        {"id": "r2-swap", "premise": "h2", "hypothesis": "p2", "label": 2},
        {"id": "r3-swap", "premise": "h3", "hypothesis": "p3", "label": 2},
    ]
    assert augment.CONTRADICTION == 2 and augment.swap_contradictions([r for r in rows if r["label"] != 2]) == [
        r for r in rows if r["label"] != 2
    ]


def test_train_swap_contradictions_reaches_the_stage(tmp_path, split_dir, params_file):
    """train.swap_contradictions: true trains on the swapped copies too (the run log counts them) and changes the
    adapter; false leaves the training set as the split wrote it."""
    rows = [json.loads(line) for line in (split_dir / "train.jsonl").read_text().splitlines()]
    contradictions = sum(r["label"] == 2 for r in rows)
    assert contradictions > 0
    plain = run(tmp_path, split_dir, params_file, "plain")
    swapped = run(tmp_path, split_dir, params_file, "swapped", train__swap_contradictions=True)
    assert record(plain)["train_pairs"] == len(rows)
    assert record(swapped)["train_pairs"] == len(rows) + contradictions
    a, b = (load_file(o / "adapter" / "adapter_model.safetensors") for o in (plain, swapped))
    assert any(not torch.equal(a[k], b[k]) for k in a)


def test_lora_use_dora_trains_a_dora_adapter_that_loads_for_scoring(tmp_path, split_dir, params_file):
    """lora.use_dora: true reaches PEFT: the saved adapter is a DoRA one (its config says so, and it holds a learnt
    magnitude per adapted weight), it differs from the plain LoRA run, and the evaluate stages' loader takes it."""
    from nli.model import adapters, loading

    plain = run(tmp_path, split_dir, params_file, "plain")
    dora = run(tmp_path, split_dir, params_file, "dora", lora__use_dora=True)
    assert json.loads((dora / "adapter" / "adapter_config.json").read_text())["use_dora"] is True
    assert json.loads((plain / "adapter" / "adapter_config.json").read_text())["use_dora"] is False
    a, b = (load_file(o / "adapter" / "adapter_model.safetensors") for o in (plain, dora))
    magnitudes = [k for k in b if "lora_magnitude_vector" in k]
    assert magnitudes and not [k for k in a if "lora_magnitude_vector" in k]
    assert any(not torch.equal(a[k], b[k]) for k in a)
    assert record(dora)["trainable_params"] > record(plain)["trainable_params"]
    model = adapters.load_adapter(loading.load(tiny_params()["model"]).model, dora / "adapter")
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([[5, 6, 7, 8]])).logits
    assert torch.isfinite(logits).all()


def test_a_float32_norm_output_is_cast_once_for_its_consumers_with_the_same_forward():
    """training.norm_outputs_in_autocast_dtype: a LayerNorm that returns float32 under autocast (as CUDA's does) hands
    its four adapter-like consumers one bf16 tensor, so backward keeps one copy of it instead of four; the forward is
    bit for bit the same, and the hooks are gone after."""
    from nli.train import training

    torch.manual_seed(0)
    norm, heads = torch.nn.LayerNorm(48), torch.nn.ModuleList(torch.nn.Linear(48, 8) for _ in range(4))
    x = torch.randn(4, 16, 48)

    def forward(active: bool):
        saved = set()

        def pack(t):
            if t.dtype == torch.bfloat16 and t.shape == (64, 48):  # an adapter's input, kept for its weight grad
                saved.add(t.untyped_storage().data_ptr())
            return t

        with (
            training.norm_outputs_in_autocast_dtype(norm, active),
            torch.autocast("cpu", torch.bfloat16),
            torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t),
        ):
            h = norm(x)
            return h.dtype, torch.stack([head(h) for head in heads]), len(saved)

    plain, once = forward(False), forward(True)
    assert plain[0] == torch.float32 and plain[2] == 4
    assert once[0] == torch.bfloat16 and once[2] == 1
    assert torch.equal(plain[1], once[1])
    with torch.autocast("cpu", torch.bfloat16):
        assert norm(x).dtype == torch.float32  # the hook is gone after
