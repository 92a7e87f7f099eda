#!/usr/bin/env python3
"""Where a training step of the embedded full recipe goes on a GPU: variants timed interleaved, then profiled.

    python bench/train_step_profile.py --out OUT_DIR [--rounds 3] [--steps 20]

A random model of SmolLM2-135M's exact shapes (Llama, 30 layers, hidden 576; no download, no bitsandbytes) in
bf16 with frozen plain Linear layers: what the embedded model is on a GPU with its NF4 weights materialised
(``model.quantization.materialize``), so the step costs the same. LoRA r16 on every linear layer, dropout 0.05,
batch 128, lr 1.6e-3, the project's Trainer subclass and collator; prompts of SNLI's token lengths.

Variants (same model, one process, rows interleaved over rounds, medians):
  old          left padding + SDPA mask, the finite check read every step, Trainer's NaN filter on (before)
  nosync       left padding + mask, the finite flags read every 10 steps, NaN filter off
  right        right padding, no mask, flags every 10 steps, NaN filter off (on a GPU until session 5)
  right-nodrop the same with LoRA dropout 0
  right-b256   the same at batch 256
  right-val    `right` with a validation (500 pairs) and a checkpoint every 10 steps: their cost by difference
  right-nocudnn, right-nodrop-nocudnn
               `right`, `right-nodrop` with SDPA's cuDNN backend off (flash attention instead), as every GPU
               load does since session 5; the other variants switch it on
Then torch.profiler over a few steps of `old` and `right` (CPU vs GPU time, top operators) and cProfile over
`right` (top Python functions), written under OUT_DIR (skipped with --no-profile).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import tempfile
from pathlib import Path

import torch
from gpu_bench import StepTimer  # same folder: the timer the Phi-2 bench uses

from nli.core import config
from nli.model import loading, scoring
from nli.train import training

SMOLLM2_135M = dict(
    hidden_size=576,
    intermediate_size=1536,
    num_hidden_layers=30,
    num_attention_heads=9,
    num_key_value_heads=3,
    vocab_size=49152,
    max_position_embeddings=8192,
    rope_theta=100000.0,
    rms_norm_eps=1e-5,
    tie_word_embeddings=True,
)
LABEL_IDS = [10, 20, 30]
DEVICE = "cuda"


def snli_lengths(n: int, seed: int) -> list[list[int]]:
    """Token ids with the short prompt's length spread on SNLI (about 25-90 tokens, most near 40)."""
    g = torch.Generator().manual_seed(seed)
    lengths = (torch.randn(n, generator=g) * 9 + 42).clamp(22, 95).long()
    return [torch.randint(100, 49000, (int(k),), generator=g).tolist() for k in lengths]


def build_model():
    from transformers import AutoConfig, AutoModelForCausalLM

    cfg = AutoConfig.for_model("llama", **SMOLLM2_135M)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16, attn_implementation="sdpa").to(DEVICE)
    for p in model.parameters():
        p.requires_grad_(False)
    lora = config.section(
        "lora", {"r": 16, "alpha": 32, "dropout": 0.05, "target_modules": "all-linear", "top_layers": 0}
    )
    return training.add_lora(model, lora, seed=1, model_name="smollm2-135m-shapes")


VARIANTS = {
    # name: (right padding, finite-check interval, NaN filter, batch, LoRA dropout, validate every, cuDNN SDPA)
    "old": (False, 1, True, 128, True, 0, True),
    "nosync": (False, 10, False, 128, True, 0, True),
    "right": (True, 10, False, 128, True, 0, True),
    "right-nodrop": (True, 10, False, 128, False, 0, True),
    "right-b256": (True, 10, False, 256, True, 0, True),
    "right-val": (True, 10, False, 128, True, 10, True),
    "right-nocudnn": (True, 10, False, 128, True, 0, False),
    "right-nodrop-nocudnn": (True, 10, False, 128, False, 0, False),
}
SPEC = ("right_pad", "check_every", "nan_filter", "batch", "dropout", "validate_every", "cudnn_sdpa")


class Bench:
    def __init__(self):
        self.model = build_model()
        self.dropouts = {n: m for n, m in self.model.named_modules() if n.endswith("lora_dropout")}
        self.runtime = loading.Runtime(device=DEVICE, dtype=torch.bfloat16, quantization=None)
        self.val = training.make_examples(snli_lengths(500, 99), [i % 3 for i in range(500)], LABEL_IDS)

    def trainer(self, variant: str, steps: int, warmup: int, seed: int, callbacks=()):
        right, every, nan_filter, batch, dropout, validate, cudnn = VARIANTS[variant]
        scoring.RIGHT_PAD_ON_GPU = right
        torch.backends.cuda.enable_cudnn_sdp(cudnn)
        training.check_interval = lambda args, every=every: every
        for holder in self.dropouts.values():  # ModuleDict {"default": Dropout}: swap in Identity for no dropout
            d = holder["default"]
            if not hasattr(d, "_saved"):
                d._saved = d.p if isinstance(d, torch.nn.Dropout) else 0.0
            if isinstance(d, torch.nn.Dropout):
                d.p = d._saved if dropout else 0.0
        seqs = snli_lengths(batch * (steps + warmup), seed)
        examples = training.make_examples(seqs, [i % 3 for i in range(len(seqs))], LABEL_IDS)
        total = steps + warmup
        p = config.section(
            "train",
            {
                "lr": 1.6e-3,
                "epochs": 1,
                "max_steps": total,
                "batch_size": batch,
                "grad_accum": 1,
                "warmup_ratio": 0.05,
                "lr_scheduler": "cosine",
                "weight_decay": 0.0,
                "optim": "adamw_torch",
                "gradient_checkpointing": False,
                "eval_steps": validate or total,
                "seed": 1,
            },
        )
        tmp = tempfile.mkdtemp()
        args = training.training_arguments(
            p, output_dir=tmp, seed=1, runtime=self.runtime, total_steps=total, validate=bool(validate)
        )
        args.disable_tqdm = True
        args.logging_nan_inf_filter = nan_filter
        if validate:
            args.load_best_model_at_end = False  # keep the model shared by every variant as it is
        timer = StepTimer(warmup)
        trainer = training.LabelTokenTrainer(
            model=self.model,
            args=args,
            train_dataset=examples,
            eval_dataset=self.val if validate else None,
            data_collator=training.make_collator(0, scoring.padding_side("cuda")),
            compute_metrics=training.make_accuracy(LABEL_IDS),
            label_token_ids=LABEL_IDS,
            callbacks=[timer, *callbacks],
        )
        return trainer, timer, batch

    def time(self, variant: str, steps: int, warmup: int, seed: int) -> dict:
        trainer, timer, batch = self.trainer(variant, steps, warmup, seed)
        trainer.train()
        seconds = timer.seconds()
        return {"seconds_per_step": seconds / timer.steps, "examples_per_second": timer.steps * batch / seconds}


def gpu_busy(prof) -> tuple[float, float]:
    """Sum of device (kernel) self time and of host self time over the profiled region, in seconds."""
    events = prof.key_averages()
    device = sum(getattr(e, "self_device_time_total", 0) or 0 for e in events) / 1e6
    host = sum(e.self_cpu_time_total for e in events) / 1e6
    return device, host


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--no-profile", action="store_true", help="the timed rounds only")
    ap.add_argument("--dry-run-cpu", action="store_true", help="a 2-layer model on CPU: checks the script only")
    args = ap.parse_args()
    if args.dry_run_cpu:
        global DEVICE
        DEVICE = "cpu"
        SMOLLM2_135M.update(num_hidden_layers=2, hidden_size=72, intermediate_size=96)
        torch.cuda.synchronize = lambda *a, **k: None
        torch.cuda.get_device_name = lambda *a, **k: "CPU dry run"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = args.variants.split(",")
    bench = Bench()
    for name in names:  # warm-up round: kernels, allocator
        bench.time(name, 2, 2, seed=0)
    runs: dict[str, list[dict]] = {n: [] for n in names}
    for r in range(args.rounds):
        for name in names:
            steps = 30 if name == "right-val" else args.steps
            res = bench.time(name, steps, args.warmup, seed=r + 1)
            runs[name].append(res)
            print(f"round {r}: {name}: {res['seconds_per_step']:.3f} s/step, {res['examples_per_second']:.0f} ex/s")
    rows = []
    for name in names:
        sps = [x["seconds_per_step"] for x in runs[name]]
        eps = [x["examples_per_second"] for x in runs[name]]
        rows.append(
            {
                "variant": name,
                "spec": dict(zip(SPEC, VARIANTS[name])),
                "seconds_per_step": round(statistics.median(sps), 4),
                "seconds_per_step_runs": [round(x, 4) for x in sps],
                "examples_per_second": round(statistics.median(eps), 1),
                "examples_per_second_runs": [round(x, 1) for x in eps],
            }
        )
    by = {r["variant"]: r for r in rows}
    extra = {}
    if "right-val" in by and "right" in by:  # 30 steps with 3 validations + checkpoints against 30 plain steps
        extra["validation_and_checkpoint_seconds_each"] = round(
            (by["right-val"]["seconds_per_step"] - by["right"]["seconds_per_step"]) * 30 / 3, 3
        )

    from torch.profiler import ProfilerActivity, profile

    prof_rows = {}
    for name in () if args.no_profile else ("old", "right"):
        trainer, timer, batch = bench.trainer(name, 6, 2, seed=7)
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            trainer.train()
            torch.cuda.synchronize()
        wall = timer.seconds()
        device, host = gpu_busy(prof)
        prof_rows[name] = {"profiled_steps_wall_s": round(wall, 3), "kernel_time_s_all_steps": round(device, 3)}
        try:
            by_device = prof.key_averages().table(sort_by="self_device_time_total", row_limit=15)
        except Exception as exc:  # the sort key's name differs between torch versions
            by_device = f"(no device-time table: {exc})"
        (out / f"profile_{name}.txt").write_text(
            prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25) + "\n\n" + by_device
        )
        print(f"profile {name}: kernels {device:.3f} s over 8 steps (2 untimed), wall of 6 timed steps {wall:.3f} s")
    if not args.no_profile:
        trainer, timer, batch = bench.trainer("right", 10, 2, seed=8)
        pr = cProfile.Profile()
        pr.enable()
        trainer.train()
        torch.cuda.synchronize()
        pr.disable()
        buf = io.StringIO()
        pstats.Stats(pr, stream=buf).sort_stats("cumulative").print_stats(40)
        buf.write("\n\n")
        pstats.Stats(pr, stream=buf).sort_stats("tottime").print_stats(30)
        (out / "cprofile_right.txt").write_text(buf.getvalue())

    result = {
        "gpu": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "model": "SmolLM2-135M shapes (random weights, bf16 frozen Linear = NF4 materialised), LoRA r16 all-linear",
        "method": f"one process, rows interleaved, warm-up round, {args.rounds} rounds of {args.warmup} untimed + "
        f"{args.steps} timed steps (right-val: 30 with 3 validations of 500 pairs + checkpoints); medians",
        "rows": rows,
        **extra,
        "profile": prof_rows,
    }
    (out / "train_step_profile.json").write_text(json.dumps(result, indent=1))
    print("| variant | s/step (runs) | ex/s |")
    for r in rows:
        print(f"| {r['variant']} | {r['seconds_per_step']} {r['seconds_per_step_runs']} | {r['examples_per_second']} |")
    print(json.dumps({**extra, "profile": prof_rows}))


if __name__ == "__main__":
    main()
