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
    "big-ckpt-packed": (
        "ours: bf16, 128, ckpt, r16 all-linear, padding-free",
        "bf16",
        128,
        1,
        True,
        ALL16,
        256,
        "adamw_torch",
        True,
    ),
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
}
REPORT = {
    "train_minutes": 23.92,
    "peak_allocated_gb": 2.47,
    "peak_reserved_gb": 4.49,
    "trainable_params": 31_457_280,
    "total_params_raw_numel": 1_552_849_920,
}
LABEL_IDS = [10, 20, 30]


def snli_like(n: int, seed: int) -> list[list[int]]:
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(45, 96, (n,), generator=g)
    return [torch.randint(100, 51200, (int(k),), generator=g).tolist() for k in lengths]


class StepTimer(TrainerCallback):
    """Wall time of the optimizer steps after the first `warmup` (CUDA init, allocator growth)."""

    def __init__(self, warmup: int = 3):
        self.warmup, self.start, self.steps = warmup, None, 0

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.warmup:
            torch.cuda.synchronize()
            self.start = time.perf_counter()
        elif state.global_step > self.warmup:
            self.steps += 1

    def seconds(self) -> float:
        torch.cuda.synchronize()
        return time.perf_counter() - self.start


def run(
    name,
    dtype,
    batch,
    accum,
    ckpt,
    lora,
    eval_batch,
    optim,
    packed,
    steps,
    n_eval,
    model_name="phi-2-shapes",
    device="cuda",
) -> dict:
    from peft import get_peft_model

    loaded = loading.load({"name": model_name, "device": device, "compute_dtype": dtype, "quantization": NF4})
    model = get_peft_model(loaded.model, training.lora_config(lora, loaded.model))
    counts = loading.parameter_counts(model)
    seqs = snli_like(batch * accum * (steps + 3), seed=0)
    examples = training.make_examples(seqs, [i % 3 for i in range(len(seqs))], LABEL_IDS)
    p = {
        "lr": 1e-4,
        "epochs": 1,
        "max_steps": steps + 3,
        "batch_size": batch,
        "grad_accum": accum,
        "warmup_ratio": 0.0,
        "lr_scheduler": "constant",
        "weight_decay": 0.0,
        "optim": optim,
        "gradient_checkpointing": ckpt,
        "eval_steps": steps + 3,
    }
    timer = StepTimer()
    with tempfile.TemporaryDirectory() as tmp:
        runtime = loading.runtime(config.model_section(name="phi-2-shapes", device=device, compute_dtype=dtype))
        args = training.training_arguments(
            p, output_dir=tmp, seed=0, runtime=runtime, total_steps=steps + 3, validate=False
        )
        args.disable_tqdm = True
        trainer = training.LabelTokenTrainer(
            model=model,
            args=args,
            train_dataset=examples,
            data_collator=training.make_collator(0, packed=packed),
            label_token_ids=LABEL_IDS,
            callbacks=[timer],
        )
        torch.cuda.reset_peak_memory_stats()
        trainer.train()
    seconds = timer.seconds()
    train_examples = timer.steps * batch * accum
    tokens = sum(len(s) for s in seqs[3 * batch * accum :]) / len(seqs[3 * batch * accum :]) * train_examples
    train_mem = (torch.cuda.max_memory_allocated() / 2**30, torch.cuda.max_memory_reserved() / 2**30)

    eval_seqs = snli_like(n_eval, seed=1)
    scoring.score(model, loaded.tokenizer, eval_seqs[:eval_batch], LABEL_IDS, eval_batch, desc="warmup")
    _, speed = scoring.score(model, loaded.tokenizer, eval_seqs, LABEL_IDS, eval_batch, desc="eval")
    row = {
        "config": name,
        "compute_dtype": dtype,
        "batch": batch,
        "grad_accum": accum,
        "gradient_checkpointing": ckpt,
        "optim": optim,
        "padding_free": packed,
        "final_train_loss": round(float(trainer.state.log_history[-1].get("train_loss", float("nan"))), 4),
        "max_grad_norm_seen": max((float(h.get("grad_norm", 0)) for h in trainer.state.log_history), default=0.0),
        "train_examples_per_second": round(train_examples / seconds, 2),
        "train_tokens_per_second": round(tokens / seconds, 0),
        "eval_examples_per_second": speed["examples_per_second"],
        "eval_batch": eval_batch,
        "peak_allocated_gb": round(train_mem[0], 2),
        "peak_reserved_gb": round(train_mem[1], 2),
        **{k: counts[k] for k in ("trainable_params", "total_params", "total_params_raw_numel")},
        "correctness": equivalence(model, loaded.tokenizer),
    }
    del trainer, model, loaded
    gc.collect()
    torch.cuda.empty_cache()
    return row


@torch.inference_mode()
def equivalence(model, tokenizer) -> dict:
    """Max |difference| of label log-probs: padded batch vs one by one; last-position vs full logits."""
    seqs = snli_like(8, seed=2)
    batched, _ = scoring.score(model, tokenizer, seqs, LABEL_IDS, 8, desc="check")
    single = torch.stack(
        [torch.as_tensor(scoring.score(model, tokenizer, [s], LABEL_IDS, 1, desc="check")[0][0]) for s in seqs]
    )
    batch = {k: v.cuda() for k, v in scoring.collate(seqs, 0).items()}
    with scoring.adapter_in_compute_dtype(model):
        full = model(**{**batch, "attention_mask": scoring._no_empty_rows(batch["attention_mask"])}, use_cache=False)
        full = full.logits[:, -1].float()
        last = scoring.answer_logits(model, batch)
        packed = scoring.answer_logits(model, {k: v.cuda() for k, v in scoring.collate_packed(seqs).items()})
    lp = torch.log_softmax(last, -1)
    return {
        "padded_vs_single_max_abs": round(float((torch.as_tensor(batched) - single).abs().max()), 4),
        "label_only_vs_full_logits_max_abs": round(float((full - last).abs().max()), 4),
        "padding_free_vs_padded_max_abs": round(
            float((torch.log_softmax(packed, -1) - lp)[:, LABEL_IDS].abs().max()), 4
        ),
        "label_logprob_range": round(float(lp[:, LABEL_IDS].abs().max()), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=None, help="default: bench/results/gpu_bench_<card>.json")
    ap.add_argument("--steps", type=int, default=15, help="timed optimizer steps per configuration")
    ap.add_argument("--eval-examples", type=int, default=2048)
    ap.add_argument("--configs", default=",".join(CONFIGS), help=f"comma-separated, from {list(CONFIGS)}")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("error: this benchmark needs a CUDA GPU")
    sources.build_tiny("phi-2-shapes")  # build the random checkpoint once, outside the timings
    rows = []
    for key in args.configs.split(","):
        rows.append(run(*CONFIGS[key], steps=args.steps, n_eval=args.eval_examples))
        print(rows[-1], flush=True)
    base = next((r for r in rows if r["config"].startswith("report")), rows[0])["train_examples_per_second"]
    for r in rows:
        r["train_speedup_vs_report_config"] = round(r["train_examples_per_second"] / base, 2)
    import bitsandbytes
    import transformers

    result = {
        "gpu": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "bitsandbytes": bitsandbytes.__version__,
        "model": "phi-2-shapes (microsoft/phi-2 architecture, random weights, NF4 + double quant)",
        "sequence_tokens": "45-95",
        "report": REPORT,
        "rows": rows,
    }
    card = result["gpu"].replace("NVIDIA ", "").split()[0].lower()
    files.write_json(args.out or f"bench/results/gpu_bench_{card}.json", result)
    cols = [
        "train_examples_per_second",
        "train_tokens_per_second",
        "eval_examples_per_second",
        "peak_allocated_gb",
        "peak_reserved_gb",
        "trainable_params",
        "train_speedup_vs_report_config",
    ]
    print(f"GPU: {result['gpu']}")
    print("| config | " + " | ".join(cols) + " |")
    for r in rows:
        print(f"| {r['config']} | " + " | ".join(str(r[c]) for c in cols) + f" | {r['correctness']}")


if __name__ == "__main__":
    main()
