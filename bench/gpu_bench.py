#!/usr/bin/env python3
"""Phi-2 QLoRA speed and memory on one CUDA GPU: the report's configuration beside ours, same run.

    python bench/gpu_bench.py [--configs report,ours,...] [--out bench/results/gpu_bench_<card>.json]

Builds microsoft/phi-2's exact architecture with random weights (alias `phi-2-shapes`: no
download), quantizes it to NF4 through the project's loader, and times QLoRA training steps and
label scoring on SNLI-length sequences (45-95 tokens) through the project's own Trainer subclass
and scoring code, so every speed-up measured here is one the pipeline gets. Prints one table and
writes it as JSON (git-tracked). Also checks that the fast paths give the same answers: left-padded
batches vs one-by-one, answer-position-only logits vs full logits, padding-free vs padded; and
records each row's final loss and largest grad norm (NaN shows there).
"""

import argparse
import gc
import math
import statistics
import sys
import tempfile
import time

import torch
from transformers import TrainerCallback

from nli.core import config, files
from nli.model import loading, scoring, sources
from nli.train import training

NF4 = {"load_in_4bit": True, "quant_type": "nf4", "double_quant": True}
QKV64 = {"r": 64, "alpha": 16, "dropout": 0.1, "target_modules": ["q_proj", "k_proj", "v_proj"], "top_layers": 0}
ALL16 = {"r": 16, "alpha": 32, "dropout": 0.05, "target_modules": "all-linear", "top_layers": 0}
# name, compute dtype, batch, accumulation, gradient checkpointing, LoRA, eval batch, optimizer, padding-free
CONFIGS = {
    "report": ("report: fp16, 4x4, ckpt, r64 qkv", "fp16", 4, 4, True, QKV64, 32, "adamw_torch", False),
    "ours": ("ours: bf16, 32, r16 all-linear", "bf16", 32, 1, False, ALL16, 256, "adamw_torch", False),
    "low-mem": ("ours low-mem: bf16, 8x2, ckpt, r16 all-linear", "bf16", 8, 2, True, ALL16, 64, "adamw_torch", False),
    "big-ckpt": ("ours: bf16, 128, ckpt, r16 all-linear", "bf16", 128, 1, True, ALL16, 256, "adamw_torch", False),
    "big-ckpt-256": ("ours: bf16, 256, ckpt, r16 all-linear", "bf16", 256, 1, True, ALL16, 256, "adamw_torch", False),
    "big-ckpt-nodrop": (
        "ours: bf16, 128, ckpt, r16 all-linear, LoRA dropout 0",
        "bf16",
        128,
        1,
        True,
        dict(ALL16, dropout=0.0),
        256,
        "adamw_torch",
        False,
    ),
    "low-mem-8bit": (
        "ours low-mem: bf16, 8x2, ckpt, r16 all-linear, 8-bit AdamW",
        "bf16",
        8,
        2,
        True,
        ALL16,
        64,
        "adamw_bnb_8bit",
        False,
    ),
    "low-mem-16": (
        "ours low-mem: bf16, 16, ckpt, r16 all-linear, 8-bit AdamW",
        "bf16",
        16,
        1,
        True,
        ALL16,
        64,
        "adamw_bnb_8bit",
        False,
    ),
    "low-mem-fast": (
        "ours low-mem: bf16, 8x2, ckpt, r16 all-linear, LoRA dropout 0, 8-bit AdamW",
        "bf16",
        8,
        2,
        True,
        dict(ALL16, dropout=0.0),
        64,
        "adamw_bnb_8bit",
        False,
    ),
    # session 6: low-mem-fast peaked near half of the 2.5 GB budget, so larger batches in one step
    "low-mem-16-fast": (
        "ours low-mem: bf16, 16, ckpt, r16 all-linear, LoRA dropout 0, 8-bit AdamW",
        "bf16",
        16,
        1,
        True,
        dict(ALL16, dropout=0.0),
        64,
        "adamw_bnb_8bit",
        False,
    ),
    "low-mem-10-fast": (
        "ours low-mem: bf16, 10, ckpt, r16 all-linear, LoRA dropout 0, 8-bit AdamW",
        "bf16",
        10,
        1,
        True,
        dict(ALL16, dropout=0.0),
        64,
        "adamw_bnb_8bit",
        False,
    ),
    "low-mem-12-fast": (
        "ours low-mem: bf16, 12, ckpt, r16 all-linear, LoRA dropout 0, 8-bit AdamW",
        "bf16",
        12,
        1,
        True,
        dict(ALL16, dropout=0.0),
        64,
        "adamw_bnb_8bit",
        False,
    ),
    "low-mem-32-fast": (
        "ours low-mem: bf16, 32, ckpt, r16 all-linear, LoRA dropout 0, 8-bit AdamW",
        "bf16",
        32,
        1,
        True,
        dict(ALL16, dropout=0.0),
        64,
        "adamw_bnb_8bit",
        False,
    ),
    "low-mem-11-fast": (
        "ours low-mem: bf16, 11, ckpt, r16 all-linear, LoRA dropout 0, 8-bit AdamW",
        "bf16",
        11,
        1,
        True,
        dict(ALL16, dropout=0.0),
        64,
        "adamw_bnb_8bit",
        False,
    ),
    "fast": (
        "ours: bf16, 256, ckpt, r16 all-linear, LoRA dropout 0, NF4 weights materialised",
        "bf16",
        256,
        1,
        True,
        dict(ALL16, dropout=0.0),
        512,
        "adamw_torch",
        False,
        True,
    ),
    "fast-128": (
        "ours: bf16, 128, ckpt, r16 all-linear, LoRA dropout 0, NF4 weights materialised",
        "bf16",
        128,
        1,
        True,
        dict(ALL16, dropout=0.0),
        512,
        "adamw_torch",
        False,
        True,
    ),
}
# Session 7: with the fused GELU a step holds less, so the fast row without gradient checkpointing (no forward run
# twice) at batches that may fit the 24 GB budget
for _b in (64, 72, 76, 80, 96, 128):  # 72-80 since session 8
    CONFIGS[f"fast-nockpt-{_b}"] = (
        f"ours: bf16, {_b}, no ckpt, r16 all-linear, LoRA dropout 0, NF4 weights materialised",
        "bf16",
        _b,
        1,
        False,
        dict(ALL16, dropout=0.0),
        512,
        "adamw_torch",
        False,
        True,
    )
# Session 8: fast's step at larger batches (fewer steps, longer kernels), and low-mem at more pairs a step (the
# LayerNorm cast lowered its peak)
for _b in (384, 512):
    CONFIGS[f"fast-{_b}"] = (CONFIGS["fast"][0].replace("256", str(_b)), "bf16", _b, *CONFIGS["fast"][3:])
CONFIGS["low-mem-14-fast"] = (
    CONFIGS["low-mem-12-fast"][0].replace("12", "14"),
    "bf16",
    14,
    *CONFIGS["low-mem-12-fast"][3:],
)
# The same row with the left-padded batches and SDPA mask of before (scoring.RIGHT_PAD_ON_GPU off while it runs)
CONFIGS["fast-left"] = (CONFIGS["fast"][0] + ", left padding + mask", *CONFIGS["fast"][1:])
LEFT_PADDED = {"fast-left"}
# The same row with SDPA's cuDNN backend off (flash attention instead), as every GPU load does since session 5
# (loading.prefer_flash_attention). Every other row switches it back on while it runs, as sessions 1-5 ran them, so
# their figures stay comparable across sessions
CONFIGS["fast-nocudnn"] = (CONFIGS["fast"][0] + ", cuDNN attention off", *CONFIGS["fast"][1:])
NO_CUDNN = {"fast-nocudnn"}
# Session 7: every load runs Phi-2's tanh GELU as PyTorch's fused kernel (loading.FUSED_GELU). The report ran Phi-2's
# stock activation, so its row keeps it; "report-fused" is the same row with the fused kernel, and "fast-stock" the
# fast row with the stock one, both to measure the switch in the same process
STOCK_GELU = {"report", "fast-stock"}
CONFIGS["report-fused"] = (CONFIGS["report"][0] + ", fused GELU", *CONFIGS["report"][1:])
CONFIGS["fast-stock"] = (CONFIGS["fast"][0] + ", stock GELU", *CONFIGS["fast"][1:])
# Session 8: every row's training steps take batches as a pipeline-sized run groups them (pipeline_batches). These
# rows draw them as sessions 1-7 did (a round's pairs grouped among themselves: more padding at large batches), to
# measure the change in one process
ROUND_DRAWN = {"report-round", "fast-round"}
CONFIGS["report-round"] = (CONFIGS["report"][0] + ", batches drawn as in sessions 1-7", *CONFIGS["report"][1:])
CONFIGS["fast-round"] = (CONFIGS["fast"][0] + ", batches drawn as in sessions 1-7", *CONFIGS["fast"][1:])
STOCK_GELU |= {"report-round"}
# Session 8: training casts each LayerNorm's float32 output to bf16 once (training.CAST_NORM_OUTPUTS); this row
# trains with every consumer casting its own copy, as before
NORM_CAST_OFF = {"fast-normcast-off"}
CONFIGS["fast-normcast-off"] = (CONFIGS["fast"][0] + ", LayerNorm output cast by each consumer", *CONFIGS["fast"][1:])
POOL = 9842  # the offline pool the pipeline trains from (embedded-full: all of it but the validation carve-out)
REPORT = {
    "train_minutes": 23.92,
    "peak_allocated_gb": 2.47,
    "peak_reserved_gb": 4.49,
    "trainable_params": 31_457_280,
    "total_params_raw_numel": 1_552_849_920,
}
LABEL_IDS = [10, 20, 30]
MODEL = {"name": "phi-2-shapes", "device": "cuda", "vocab": 51200}


def snli_like(n: int, seed: int) -> list[list[int]]:
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(45, 96, (n,), generator=g)
    return [
        torch.randint(min(100, MODEL["vocab"] // 2), MODEL["vocab"], (int(k),), generator=g).tolist() for k in lengths
    ]


_pools: dict[int, list[list[int]]] = {}


def pipeline_batches(batch: int, steps: int, warmup: int, seed: int) -> list[list[int]]:
    """``warmup + steps`` optimizer batches of ``batch`` sequences, as a run over a pipeline-sized pool makes them.

    A round's few batches, grouped by length among themselves (the Trainer's sampler, as sessions 1-7 drew them), pad
    far more at batch 256 than a run over the pool does (bench/results/gpu/padding_s7.json). Here the pool's own
    length-grouped order (training.length_grouped_indices at this batch, as the train stage's sampler makes it) is cut
    into batches; the warm-up steps take the longest one (a run's first, so the peak memory is the run's) and the
    median, the timed steps take batches at evenly spaced quantiles of padded length, so every row is timed on the
    same spread of lengths whatever its batch size."""
    pool = _pools.setdefault(seed, snli_like(POOL, seed=1000 + seed))
    lengths = [len(s) for s in pool]
    order = training.length_grouped_indices(lengths, batch, torch.Generator().manual_seed(seed))
    batches = [order[k : k + batch] for k in range(0, len(order) - batch + 1, batch)]
    ranked = sorted(batches, key=lambda b: (max(lengths[i] for i in b), sum(lengths[i] for i in b)))
    picks = [batches[0]] + [ranked[len(ranked) // 2]] * (warmup - 1)
    picks += [ranked[int((j + 0.5) * len(ranked) / steps)] for j in range(steps)]
    return [pool[i] for b in picks for i in b]


class FixedOrderTrainer(training.LabelTokenTrainer):
    """The project's Trainer, taking the training pairs in the order given (pipeline_batches made the batches)."""

    def _get_train_sampler(self, train_dataset=None):
        return torch.utils.data.SequentialSampler(train_dataset if train_dataset is not None else self.train_dataset)


class StepTimer(TrainerCallback):
    """Wall time of the optimizer steps after the first `warmup` (CUDA init, allocator growth)."""

    def __init__(self, warmup: int = 3):
        self.warmup, self.start, self.steps = warmup, None, 0
        if warmup == 0:
            raise ValueError("at least one untimed step: the timer starts at the end of step `warmup`")

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.warmup:
            torch.cuda.synchronize()
            self.start = time.perf_counter()
        elif state.global_step > self.warmup:
            self.steps += 1

    def seconds(self) -> float:
        torch.cuda.synchronize()
        return time.perf_counter() - self.start


class Row:
    """One configuration, loaded once and kept: its model is trained and scored again in every round."""

    def __init__(self, key, name, dtype, batch, accum, ckpt, lora, eval_batch, optim, packed, materialize=False):
        from peft import get_peft_model

        self.key, self.name, self.dtype, self.batch, self.accum = key, name, dtype, batch, accum
        self.ckpt, self.eval_batch, self.optim, self.packed, self.materialize = (
            ckpt,
            eval_batch,
            optim,
            packed,
            materialize,
        )
        before = torch.cuda.memory_allocated()
        quant = {**NF4, "materialize": materialize}
        if MODEL["device"] == "cpu":  # dry run: no fp16 on CPU
            self.dtype = dtype = "bf16"
        loading.FUSED_GELU = key not in STOCK_GELU
        try:
            self.loaded = loading.load(
                {"name": MODEL["name"], "device": MODEL["device"], "compute_dtype": dtype, "quantization": quant}
            )
        finally:
            loading.FUSED_GELU = True
        self.activation = type(self.loaded.model.get_submodule("model.layers.0.mlp.activation_fn")).__name__
        self.model = get_peft_model(self.loaded.model, training.lora_config(lora, self.loaded.model))
        self.own_bytes = torch.cuda.memory_allocated() - before  # weights + adapter, resident between rounds
        self.counts = loading.parameter_counts(self.model)
        self.train_runs, self.eval_runs, self.peaks, self.losses, self.grad_norms = [], [], [], [], []
        self.eval_variants: dict[str, list[float]] = {}

    def train(self, steps: int, warmup: int) -> float:
        scoring.RIGHT_PAD_ON_GPU = self.key not in LEFT_PADDED
        torch.backends.cuda.enable_cudnn_sdp(self.key not in NO_CUDNN)
        training.CAST_NORM_OUTPUTS = self.key not in NORM_CAST_OFF
        try:
            return self._train(steps, warmup)
        finally:
            scoring.RIGHT_PAD_ON_GPU = True
            torch.backends.cuda.enable_cudnn_sdp(True)
            training.CAST_NORM_OUTPUTS = True

    def _train(self, steps: int, warmup: int) -> float:
        if self.key in ROUND_DRAWN:
            seqs = snli_like(self.batch * self.accum * (steps + warmup), seed=len(self.train_runs))
        else:
            seqs = pipeline_batches(self.batch * self.accum, steps, warmup, seed=len(self.train_runs))
        examples = training.make_examples(seqs, [i % 3 for i in range(len(seqs))], LABEL_IDS)
        p = {
            "lr": 1e-4,
            "epochs": 1,
            "max_steps": steps + warmup,
            "batch_size": self.batch,
            "grad_accum": self.accum,
            "warmup_ratio": 0.0,
            "lr_scheduler": "constant",
            "weight_decay": 0.0,
            "optim": self.optim,
            "gradient_checkpointing": self.ckpt,
            "eval_steps": steps + warmup,
            "seed": 0,
        }
        timer = StepTimer(warmup)
        others = torch.cuda.memory_allocated() - self.own_bytes  # the other rows' resident models
        with tempfile.TemporaryDirectory() as tmp:
            run = loading.runtime(
                config.model_section(name=MODEL["name"], device=MODEL["device"], compute_dtype=self.dtype)
            )
            args = training.training_arguments(
                p, output_dir=tmp, seed=0, runtime=run, total_steps=steps + warmup, validate=False
            )
            args.disable_tqdm = True
            trainer = (training.LabelTokenTrainer if self.key in ROUND_DRAWN else FixedOrderTrainer)(
                model=self.model,
                args=args,
                train_dataset=examples,
                data_collator=training.make_collator(0, scoring.padding_side(MODEL["device"])),
                label_token_ids=LABEL_IDS,
                callbacks=[timer],
            )
            torch.cuda.reset_peak_memory_stats()
            trainer.train()
        seconds = timer.seconds()
        self.peaks.append((torch.cuda.max_memory_allocated() - others) / 2**30)
        self.losses.append(float(trainer.state.log_history[-1].get("train_loss", float("nan"))))
        self.grad_norms += [float(h["grad_norm"]) for h in trainer.state.log_history if "grad_norm" in h]
        rate = timer.steps * self.batch * self.accum / seconds
        self.train_runs.append(rate)
        del trainer
        gc.collect()
        return rate

    def score(self, n_eval: int, batch: int | None = None, variant: str | None = None) -> float:
        """Examples a second scoring ``n_eval`` SNLI-length prompts; ``variant`` records the run apart from the row's
        own scoring (``--eval-variants``)."""
        eval_seqs = snli_like(n_eval, seed=1)
        scoring.RIGHT_PAD_ON_GPU = self.key not in LEFT_PADDED
        torch.backends.cuda.enable_cudnn_sdp(self.key not in NO_CUDNN)
        try:
            _, speed = scoring.score(
                self.model, self.loaded.tokenizer, eval_seqs, LABEL_IDS, batch or self.eval_batch, progress=False
            )
        finally:
            scoring.RIGHT_PAD_ON_GPU = True
            torch.backends.cuda.enable_cudnn_sdp(True)
        runs = self.eval_runs if variant is None else self.eval_variants.setdefault(variant, [])
        runs.append(speed["examples_per_second"])
        return speed["examples_per_second"]

    def score_merged(self, n_eval: int) -> float:
        """Scoring with the adapter merged into the materialised base weights (PEFT's ``merge_adapter``), as an
        evaluate stage could do for a model it no longer trains; the base weights are restored bit for bit after."""
        layers = [m for m in self.model.modules() if hasattr(m, "base_layer") and hasattr(m, "merge")]
        saved = [m.base_layer.weight.detach().clone() for m in layers]
        self.model.merge_adapter()
        try:
            return self.score(n_eval, variant="merged")
        finally:
            self.model.unmerge_adapter()
            with torch.no_grad():
                for m, w in zip(layers, saved, strict=True):
                    m.base_layer.weight.copy_(w)

    def profile(self, n_eval: int, shapes: bool = False) -> str:
        """torch.profiler's operators by GPU time: one training call (a warm-up step and one more), then scoring;
        ``shapes``: grouped by input shape and dtype too (which tensors the copies and elementwise ops touch)."""
        from torch.profiler import ProfilerActivity, profile

        out = []
        for what, fn in (("train: 2 optimizer steps", lambda: self.train(1, 1)), ("score", lambda: self.score(n_eval))):
            with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA], record_shapes=shapes) as prof:
                fn()
                torch.cuda.synchronize()
            averages = prof.key_averages(group_by_input_shape=shapes)
            table = averages.table(sort_by="self_device_time_total", row_limit=60 if shapes else 30)
            out.append(f"## {self.key}: {what}\n{table}")
        self.train_runs.pop(), self.eval_runs.pop(), self.peaks.pop(), self.losses.pop()  # not timed rounds
        return "\n\n".join(out)

    def summary(self, report_runs: list[float]) -> dict:
        ratios = [a / b for a, b in zip(self.train_runs, report_runs)]  # each round against that round's report row
        finite = all(math.isfinite(x) for x in self.losses + self.grad_norms)
        return {
            "config": self.name,
            "key": self.key,
            "compute_dtype": self.dtype,
            "batch": self.batch,
            "grad_accum": self.accum,
            "gradient_checkpointing": self.ckpt,
            "optim": self.optim,
            "padding_free": self.packed,
            "batches": "drawn per round, as sessions 1-7" if self.key in ROUND_DRAWN else "pipeline-sized grouping",
            "nf4_materialized": self.materialize,
            "train_examples_per_second_runs": [round(x, 2) for x in self.train_runs],
            "train_examples_per_second": round(statistics.median(self.train_runs), 2),
            "train_speedup_vs_report_config_runs": [round(x, 2) for x in ratios],
            "train_speedup_vs_report_config": round(statistics.median(ratios), 2),
            "eval_examples_per_second_runs": self.eval_runs,
            "eval_examples_per_second": round(statistics.median(self.eval_runs), 1),
            "eval_batch": self.eval_batch,
            "eval_variants_examples_per_second_runs": self.eval_variants,
            "eval_variants_examples_per_second": {
                k: round(statistics.median(v), 1) for k, v in self.eval_variants.items()
            },
            "activation": self.activation,
            "peak_allocated_gb_runs": [round(x, 2) for x in self.peaks],
            "peak_allocated_gb": round(max(self.peaks), 2),
            "final_train_loss_runs": [round(x, 4) for x in self.losses],
            "max_grad_norm_seen": round(max(self.grad_norms, default=0.0), 4),
            "all_finite": finite,
            **{k: self.counts[k] for k in ("trainable_params", "total_params", "total_params_raw_numel")},
            "correctness": equivalence(self.model, self.loaded.tokenizer),
        }


@torch.inference_mode()
def equivalence(model, tokenizer) -> dict:
    """Max |difference| of label log-probs: padded batch vs one by one; last-position vs full logits."""
    seqs = snli_like(8, seed=2)
    batched, _ = scoring.score(model, tokenizer, seqs, LABEL_IDS, 8, progress=False)
    single = torch.stack(
        [torch.as_tensor(scoring.score(model, tokenizer, [s], LABEL_IDS, 1, progress=False)[0][0]) for s in seqs]
    )
    device = next(model.parameters()).device
    batch = {k: v.to(device) for k, v in scoring.collate(seqs, 0).items()}
    with scoring.adapter_in_compute_dtype(model):
        full = model(**{**batch, "attention_mask": scoring._no_empty_rows(batch["attention_mask"])}, use_cache=False)
        full = full.logits[:, -1].float()
        last = scoring.answer_logits(model, batch)
        right = scoring.answer_logits(model, {k: v.to(device) for k, v in scoring.collate(seqs, 0, "right").items()})
    lp = torch.log_softmax(last, -1)
    return {
        "right_vs_left_padded_max_abs": round(float((torch.log_softmax(right, -1) - lp).abs()[:, LABEL_IDS].max()), 4),
        "padded_vs_single_max_abs": round(float((torch.as_tensor(batched) - single).abs().max()), 4),
        "label_only_vs_full_logits_max_abs": round(float((full - last).abs().max()), 4),
        "label_logprob_range": round(float(lp[:, LABEL_IDS].abs().max()), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=None, help="default: bench/results/gpu_bench_<card>.json")
    ap.add_argument("--steps", type=int, default=6, help="timed optimizer steps per row and round")
    ap.add_argument("--warmup-steps", type=int, default=2, help="untimed steps at the start of every row's run")
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds; every row runs once per round, interleaved")
    ap.add_argument("--eval-examples", type=int, default=1024)
    ap.add_argument("--configs", default="report,fast,fast-left,low-mem-8bit,low-mem-fast")
    ap.add_argument("--dry-run-cpu", action="store_true", help="tiny-phi on CPU: checks the script, times nothing")
    ap.add_argument(
        "--eval-variants",
        default="",
        help="rows whose scoring is also timed, in every round beside their own, at half their eval batch "
        "(batch-N) and with the adapter merged into materialised weights (merged); comma-separated keys",
    )
    ap.add_argument("--profile", default="", help="rows to profile after the rounds (torch.profiler, by GPU time)")
    ap.add_argument("--profile-out", default=None, help="where the profile tables go (default: beside --out)")
    ap.add_argument("--profile-shapes", action="store_true", help="profile tables grouped by input shape as well")
    args = ap.parse_args()
    if args.dry_run_cpu:
        MODEL.update(name="tiny-phi", device="cpu", vocab=40)
        for fn in ("synchronize", "reset_peak_memory_stats"):
            setattr(torch.cuda, fn, lambda *a, **k: None)
        for fn in ("memory_allocated", "max_memory_allocated"):
            setattr(torch.cuda, fn, lambda *a, **k: 0)
        torch.cuda.get_device_name = lambda *a, **k: "CPU dry run"
    elif not torch.cuda.is_available():
        sys.exit("error: this benchmark needs a CUDA GPU")
    keys = args.configs.split(",")
    variant_keys = set(filter(None, args.eval_variants.split(",")))
    profile_keys = [k for k in args.profile.split(",") if k]
    if not (variant_keys | set(profile_keys)) <= set(keys):
        sys.exit("error: --eval-variants and --profile take keys from --configs")
    if keys[0] != "report":
        sys.exit("error: --configs must start with report (every ratio is against it)")
    sources.build_tiny(MODEL["name"])  # build the random checkpoint once, outside the timings
    # Peak memory, one row at a time with nothing else on the GPU. In the interleaved rounds below every row's model
    # stays resident, and a row's peak can only be estimated net of the others' (gc during a load skews that estimate:
    # in the first H200 run it put one row below the size of its own weights).
    alone = {}
    for k in keys:
        gc.collect()
        torch.cuda.empty_cache()
        row = Row(k, *CONFIGS[k])
        row.train(1, args.warmup_steps)
        alone[k] = row.peaks[-1]
        print(f"memory pass: {k}: peak {alone[k]:.2f} GB allocated, alone on the GPU", flush=True)
        del row
    gc.collect()
    torch.cuda.empty_cache()
    rows = [Row(k, *CONFIGS[k]) for k in keys]
    for row in rows:  # warm-up round, not recorded: kernels, autotuning, allocator growth
        row.train(1, args.warmup_steps)
        row.score(row.eval_batch * 2)
        row.train_runs.clear(), row.eval_runs.clear(), row.peaks.clear(), row.losses.clear()
    for r in range(args.rounds):
        for row in rows:
            rate = row.train(args.steps, args.warmup_steps)
            ev = row.score(args.eval_examples)
            print(
                f"round {r}: {row.key}: train {rate:.2f} ex/s, eval {ev:.1f} ex/s, peak {row.peaks[-1]:.2f} GB",
                flush=True,
            )
            if row.key in variant_keys:
                half = row.eval_batch // 2
                extra = {
                    f"batch-{half}": row.score(args.eval_examples, batch=half, variant=f"batch-{half}"),
                    "merged": row.score_merged(args.eval_examples) if row.materialize else None,
                    "again": row.score(args.eval_examples, variant="again"),  # the row's own, after the others
                }
                print(f"round {r}: {row.key}: eval variants {extra}", flush=True)
    profiles = [row.profile(args.eval_examples, args.profile_shapes) for row in rows if row.key in profile_keys]
    report_runs = rows[0].train_runs
    out_rows = [row.summary(report_runs) for row in rows]
    for r in out_rows:
        r["peak_allocated_gb_interleaved_net_runs"] = r.pop("peak_allocated_gb_runs")
        del r["peak_allocated_gb"]
        r["peak_allocated_gb"] = round(alone[r["key"]], 2)  # the row alone on the GPU
    import bitsandbytes
    import transformers

    result = {
        "gpu": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "bitsandbytes": bitsandbytes.__version__,
        "model": "phi-2-shapes (microsoft/phi-2 architecture, random weights, NF4 + double quant)",
        "sequence_tokens": "45-95",
        "method": (
            f"one process; a memory pass (each row alone: load, {args.warmup_steps + 1} steps, peak allocated, freed), "
            f"then every row loaded once, a warm-up round and {args.rounds} timed rounds, rows "
            f"interleaved; each round: {args.warmup_steps} untimed + {args.steps} timed optimizer steps (batches as "
            f"a run over a {POOL}-pair pool groups them: pipeline_batches; rows in ROUND_DRAWN draw them as sessions "
            f"1-7 did), then "
            f"{args.eval_examples} scored examples (rows in --eval-variants: then at half their eval batch, merged, "
            f"and their own again); ratios per round against that round's report row, median shown"
        ),
        "report": REPORT,
        "rows": out_rows,
    }
    card = result["gpu"].replace("NVIDIA ", "").split()[0].lower()
    out = args.out or f"bench/results/gpu_bench_{card}.json"
    files.write_json(out, result)
    if profiles:
        files.write_text(args.profile_out or out.removesuffix(".json") + "_profile.txt", "\n\n".join(profiles) + "\n")
    print(f"GPU: {result['gpu']}")
    print(
        "| config | GELU | train ex/s (runs) | x report (runs) | eval ex/s (runs) | peak alloc GB | finite | checks |"
    )
    for r in out_rows:
        print(
            f"| {r['key']} | {r['activation']} | "
            f"{r['train_examples_per_second']} {r['train_examples_per_second_runs']} | "
            f"{r['train_speedup_vs_report_config']} {r['train_speedup_vs_report_config_runs']} | "
            f"{r['eval_examples_per_second']} {r['eval_examples_per_second_runs']} | {r['peak_allocated_gb']} | "
            f"{r['all_finite']} | {r['correctness']} |"
        )
        for name, runs in r["eval_variants_examples_per_second_runs"].items():
            print(f"|   {r['key']} scoring, {name} | | | | {statistics.median(runs):.1f} {runs} | | | |")


if __name__ == "__main__":
    main()
