#!/usr/bin/env python3
"""Archived with its results (bench/results/README.md): it closed the bf16 NaN investigation of issue 11 and
ran against an older layout (the padding-free collate, scoring._no_empty_rows patched); it is not maintained.

The low-mem row's NaN, one change at a time: loss and grad norm per step through the project's Trainer.

    python bench/results/h100/bf16_trainer_diag.py --out DIR

Phi-2 shapes (random, NF4), bf16, batch 8 x 2, r16 all-linear, lr 1e-4: the bench's low-mem row.
Each variant starts from the same fresh adapter and data. Also compares the LoRA gradients of one
batch with and without checkpointing once the adapter is non-zero (dropout off, so no RNG).
"""

import argparse
import contextlib
import json
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F
from gpu_bench import ALL16, LABEL_IDS, NF4, snli_like
from torch.nn.attention import SDPBackend, sdpa_kernel
from transformers import TrainerCallback, set_seed

from nli.model import loading, scoring
from nli.train import training


class Log(TrainerCallback):
    def __init__(self):
        self.rows = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.rows.append((state.global_step, round(float(logs["loss"]), 3), float(logs.get("grad_norm", 0))))


class Probe:
    """Per step: NaN counts in decoder-layer outputs and in their gradients, at pad vs real positions."""

    def __init__(self, layers):
        self.layers, self.steps, self.cur, self.mask = layers, [], None, None

    def attach(self, mask):
        self.mask = mask.bool()
        self.cur = {"fwd_pad": 0, "fwd_real": 0, "grad_pad": 0, "grad_real": 0, "pad_absmax": 0.0}
        self.steps.append(self.cur)
        return [layer.register_forward_hook(self.hook) for layer in self.layers]

    def hook(self, _m, _i, out):
        h = out[0] if isinstance(out, tuple) else out
        real, cur = self.mask, self.cur
        bad = torch.isnan(h.detach()).any(-1)
        cur["fwd_pad"] += int((bad & ~real).sum())
        cur["fwd_real"] += int((bad & real).sum())
        if (~real).any():
            cur["pad_absmax"] = max(cur["pad_absmax"], float(h.detach()[~real].float().abs().max()))

        def ghook(g):
            gbad = torch.isnan(g).any(-1)
            cur["grad_pad"] += int((gbad & ~real).sum())
            cur["grad_real"] += int((gbad & real).sum())

        if h.requires_grad:
            h.register_hook(ghook)


def train(base, lora, examples, ckpt, attn, steps, pad_id, reentrant=False, backend=None, probe=False, packed=False):
    from peft import get_peft_model

    base.set_attn_implementation(attn)
    set_seed(0)
    model = get_peft_model(base, training.lora_config(lora, base))
    p = dict(lr=1e-4, epochs=1, max_steps=steps, batch_size=8, grad_accum=2, warmup_ratio=0.0)
    p.update(lr_scheduler="constant", weight_decay=0.0, optim="adamw_torch", gradient_checkpointing=ckpt)
    p["eval_steps"] = steps
    log = Log()
    with tempfile.TemporaryDirectory() as tmp:
        runtime = loading.Runtime(device="cuda", dtype=torch.bfloat16, quantization=None)
        args = training.training_arguments(
            p, output_dir=tmp, seed=0, runtime=runtime, total_steps=steps, validate=False
        )
        args.disable_tqdm, args.logging_steps = True, 1
        if ckpt and reentrant:
            args.activation_checkpointing_kwargs = {"use_reentrant": True}
        cls = training.LabelTokenTrainer
        pr = Probe(model.get_base_model().model.layers) if probe else None
        if probe:

            class cls(training.LabelTokenTrainer):  # noqa: N801
                def compute_loss(self, model, inputs, **kw):
                    handles = pr.attach(inputs["attention_mask"])
                    try:
                        return super().compute_loss(model, inputs, **kw)
                    finally:
                        for h in handles:
                            h.remove()

        trainer = cls(
            model=model,
            args=args,
            train_dataset=examples,
            data_collator=training.make_collator(pad_id, packed=packed),
            label_token_ids=LABEL_IDS,
            callbacks=[log],
        )
        ctx = sdpa_kernel([backend]) if backend is not None else contextlib.nullcontext()
        with ctx:
            trainer.train()
        if probe:
            log.rows.append({"probe_per_microbatch": pr.steps})
    base = model.unload()
    if ckpt:
        base.activation_checkpointing_disable() if hasattr(
            base, "activation_checkpointing_disable"
        ) else base.gradient_checkpointing_disable()
    return base, log.rows


def grad_compare(base, pad_id):
    """Same batch, same non-zero adapter, dropout 0: LoRA grads with vs without checkpointing."""
    from peft import get_peft_model

    set_seed(1)
    lora = dict(ALL16, dropout=0.0)
    model = get_peft_model(base, training.lora_config(lora, base))
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 2e-3)
    seqs = snli_like(8, seed=7)
    batch = {k: v.cuda() for k, v in scoring.collate(seqs, pad_id).items()}
    labels = torch.tensor([LABEL_IDS[i % 3] for i in range(8)]).cuda()
    out = {}
    for ckpt in (False, True):
        b = model.get_base_model()
        if ckpt:
            b.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
            b.enable_input_require_grads()
        model.train()
        model.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = F.cross_entropy(scoring.answer_logits(model, batch), labels)
        loss.backward()
        out[ckpt] = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
        out[f"loss{ckpt}"] = loss.item()
    worst = sorted(
        (
            (float((out[True][n] - out[False][n]).norm() / (out[False][n].norm() + 1e-12)), n)
            for n in out[False]
            if out[False][n].norm() > 0
        ),
        reverse=True,
    )
    b.activation_checkpointing_disable()
    base = model.unload()
    return base, {
        "loss_no_ckpt": out["lossFalse"],
        "loss_ckpt": out["lossTrue"],
        "nan_grads_ckpt": sum(int(torch.isnan(g).any()) for g in out[True].values()),
        "nan_grads_no_ckpt": sum(int(torch.isnan(g).any()) for g in out[False].values()),
        "worst_rel_diff": worst[:5],
        "median_rel_diff": worst[len(worst) // 2][0],
    }


@torch.inference_mode()
def eval_modes(base, pad_id):
    """Scoring batch 256 with the fp32 adapter as is, under bf16 autocast, and with bf16 adapter weights."""
    import time

    from peft import get_peft_model

    set_seed(2)
    model = get_peft_model(base, training.lora_config(ALL16, base))
    for n, p in model.named_parameters():
        if "lora_B" in n:
            p.normal_(0, 2e-3)
    model.eval()
    batch = {k: v.cuda() for k, v in scoring.collate(snli_like(256, seed=5), pad_id).items()}

    def timed(fn):
        fn()
        torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(3):
            out = fn()
        torch.cuda.synchronize()
        return out, (time.perf_counter() - t) / 3

    ref, t0 = timed(lambda: scoring.answer_logits(model, batch))

    def auto():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            return scoring.answer_logits(model, batch)

    a, t1 = timed(auto)
    for n, p in model.named_parameters():
        if "lora_" in n:
            p.data = p.data.to(torch.bfloat16)
    b, t2 = timed(lambda: scoring.answer_logits(model, batch))
    model.unload()
    return {
        "fp32_adapter_s": t0,
        "autocast_s": t1,
        "bf16_adapter_s": t2,
        "autocast_max_abs_logprob_diff": float((a.log_softmax(-1) - ref.log_softmax(-1)).abs().max()),
        "bf16_adapter_max_abs_logprob_diff": float((b.log_softmax(-1) - ref.log_softmax(-1)).abs().max()),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=12)
    args = ap.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    loaded = loading.load({"name": "phi-2-shapes", "compute_dtype": "bf16", "quantization": NF4})
    base, pad_id = loaded.model, loaded.tokenizer.pad_token_id
    seqs = snli_like(16 * args.steps, seed=0)
    examples = training.make_examples(seqs, [i % 3 for i in range(len(seqs))], LABEL_IDS)
    results = {}
    old_mask = scoring._no_empty_rows
    variants = [  # name, lora, ckpt, attn, reentrant, backend, old 2D mask, probe, packed
        ("left-pad 2D mask (before), sdpa default, no ckpt, probed", ALL16, False, "sdpa", False, None, True, True, 0),
        ("left-pad 2D mask, sdpa EFFICIENT", ALL16, False, "sdpa", False, SDPBackend.EFFICIENT_ATTENTION, True, 0, 0),
        ("left-pad 2D mask, sdpa MATH", ALL16, False, "sdpa", False, SDPBackend.MATH, True, False, False),
        ("left-pad 2D mask, sdpa CUDNN", ALL16, False, "sdpa", False, SDPBackend.CUDNN_ATTENTION, True, False, False),
        ("left-pad, pads attend to themselves (fix), sdpa default, ckpt", ALL16, True, "sdpa", False, None, 0, 0, 0),
        ("padding-free packed, sdpa default, ckpt", ALL16, True, "sdpa", False, None, False, False, True),
    ]
    for name, lora, ckpt, attn, reent, backend, old, probe, packed in variants:
        scoring._no_empty_rows = (lambda m: m) if old else old_mask
        try:
            base, rows = train(base, lora, examples, ckpt, attn, args.steps, pad_id, reent, backend, probe, packed)
        except Exception as exc:  # noqa: BLE001
            rows = f"{type(exc).__name__}: {str(exc)[:300]}"
        scoring._no_empty_rows = old_mask
        results[name] = rows
        print(name, rows, flush=True)
    results["eval_modes"] = eval_modes(base, pad_id)
    print(results["eval_modes"], flush=True)
    Path(args.out, "trainer_diag.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
