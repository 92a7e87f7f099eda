#!/usr/bin/env python3
"""Archived with its results (bench/results/README.md): it closed the bf16 NaN investigation of issue 11 and
ran against an older layout (the padding-free collate, scoring._no_empty_rows patched); it is not maintained.

Where does bf16 QLoRA training give NaN? One backward per variant on Phi-2 shapes (random, NF4).

    python bench/results/h100/bf16_diag.py --out DIR

Each variant runs one forward + backward of the label-token loss under bf16 autocast (what Trainer
does) on the same 8 SNLI-length sequences and reports: the loss, the LoRA gradient norm, and how
many hidden-state values are NaN at padded vs real positions. Variants change one thing at a time:
gradient checkpointing, the SDPA backend, eager attention, right padding, no padding, packed rows.
Then profiles one training step and one scoring batch (top CUDA kernels).
"""

import argparse
import contextlib
import inspect
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from gpu_bench import ALL16, LABEL_IDS, NF4, snli_like
from torch.nn.attention import SDPBackend, sdpa_kernel

from nli.model import loading, scoring
from nli.train import training


def right_pad(seqs, pad_id):
    width = max(map(len, seqs))
    ids = torch.full((len(seqs), width), pad_id)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    pos = torch.arange(width).expand(len(seqs), -1).clone()
    return {"input_ids": ids, "attention_mask": mask, "position_ids": pos}, torch.tensor([len(s) - 1 for s in seqs])


def packed(seqs):
    ids = torch.tensor([t for s in seqs for t in s])[None]
    pos = torch.cat([torch.arange(len(s)) for s in seqs])[None]
    ends = torch.cumsum(torch.tensor([len(s) for s in seqs]), 0) - 1
    return {"input_ids": ids, "position_ids": pos}, ends


def one_step(model, layers, seqs, labels, layout, backend, pad_id):
    nan_pad = nan_real = 0
    real_mask = None

    def hook(_m, _i, out):
        nonlocal nan_pad, nan_real
        h = out[0] if isinstance(out, tuple) else out
        bad = torch.isnan(h.detach()).any(-1)  # (B, T)
        nan_pad += int((bad & ~real_mask).sum())
        nan_real += int((bad & real_mask).sum())

    handles = [layer.register_forward_hook(hook) for layer in layers]
    if layout == "left":
        batch = scoring.collate(seqs, pad_id)
        real_mask = batch["attention_mask"].bool().cuda()
        pick = None
    elif layout == "right":
        batch, pick = right_pad(seqs, pad_id)
        real_mask = batch["attention_mask"].bool().cuda()
    elif layout == "nopad":
        batch = scoring.collate(seqs, pad_id)
        real_mask = batch["attention_mask"].bool().cuda()
        pick = None
    else:  # packed
        batch, pick = packed(seqs)
        real_mask = torch.ones_like(batch["input_ids"], dtype=torch.bool).cuda()
    batch = {k: v.cuda() for k, v in batch.items()}
    try:
        return _step(model, batch, pick, labels, layout, backend, seqs, lambda: (nan_pad, nan_real))
    finally:
        for h in handles:
            h.remove()


def _step(model, batch, pick, labels, layout, backend, seqs, nans):
    model.zero_grad(set_to_none=True)
    ctx = sdpa_kernel([backend]) if backend is not None else contextlib.nullcontext()
    with ctx:  # the backward (and checkpoint recomputation) runs under the same SDPA backend
        with torch.autocast("cuda", dtype=torch.bfloat16):
            if pick is None:
                logits = scoring.answer_logits(model, batch)
            elif layout == "packed":
                logits = model(**batch, logits_to_keep=pick.cuda(), use_cache=False).logits[0].float()
            else:
                full = model(**batch, use_cache=False).logits
                logits = full[torch.arange(len(seqs)), pick.cuda()].float()
            loss = F.cross_entropy(logits, labels.cuda())
        loss.backward()
    nan_pad, nan_real = nans()
    grads = [p.grad for p in model.parameters() if p.requires_grad and p.grad is not None]
    gnorm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.float()) for g in grads])).item()
    nan_grads = sum(int(torch.isnan(g).any()) for g in grads)
    return {
        "loss": round(loss.item(), 4),
        "grad_norm": gnorm,
        "lora_tensors_with_nan_grad": nan_grads,
        "of": len(grads),
        "nan_hidden_pad_positions": nan_pad,
        "nan_hidden_real_positions": nan_real,
        "logits_nan": bool(torch.isnan(logits).any()),
    }


def set_ckpt(model, on):
    base = model.get_base_model()
    if on:
        base.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        base.enable_input_require_grads()
    else:
        base.activation_checkpointing_disable() if hasattr(
            base, "activation_checkpointing_disable"
        ) else base.gradient_checkpointing_disable()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--model", default="phi-2-shapes")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    info = {"torch": torch.__version__, "gpu": torch.cuda.get_device_name()}
    try:
        from torch.nn.attention.varlen import varlen_attn

        info["varlen_attn"] = str(inspect.signature(varlen_attn))
    except Exception as exc:  # noqa: BLE001
        info["varlen_attn"] = f"absent: {exc}"
    print(info, flush=True)

    from peft import get_peft_model

    loaded = loading.load({"name": args.model, "compute_dtype": "bf16", "quantization": NF4})
    torch.manual_seed(0)
    model = get_peft_model(loaded.model, training.lora_config(ALL16, loaded.model))
    model.train()
    layers = model.get_base_model().model.layers
    dtypes = {}
    for n, p in model.named_parameters():
        dtypes.setdefault(f"{'train' if p.requires_grad else 'frozen'}:{p.dtype}", []).append(n)
    info["param_dtypes"] = {k: [len(v), v[:3]] for k, v in dtypes.items()}
    pad_id = loaded.tokenizer.pad_token_id
    seqs = snli_like(8, seed=3)
    same = [s[:45] for s in seqs]
    labels = torch.tensor([LABEL_IDS[i % 3] for i in range(8)])
    variants = [
        ("left, sdpa default, no ckpt", "left", None, False, "sdpa"),
        ("left, sdpa default, ckpt", "left", None, True, "sdpa"),
        ("left, sdpa MATH, ckpt", "left", SDPBackend.MATH, True, "sdpa"),
        ("left, sdpa EFFICIENT, ckpt", "left", SDPBackend.EFFICIENT_ATTENTION, True, "sdpa"),
        ("left, sdpa CUDNN, ckpt", "left", SDPBackend.CUDNN_ATTENTION, True, "sdpa"),
        ("left, eager, ckpt", "left", None, True, "eager"),
        ("left, eager, no ckpt", "left", None, False, "eager"),
        ("right, sdpa default, ckpt", "right", None, True, "sdpa"),
        ("no padding, sdpa default, ckpt", "nopad", None, True, "sdpa"),
        ("packed, sdpa default, ckpt", "packed", None, True, "sdpa"),
        ("packed, sdpa default, no ckpt", "packed", None, False, "sdpa"),
    ]
    rows = []
    for name, layout, backend, ckpt, attn in variants:
        try:
            model.get_base_model().set_attn_implementation(attn)
            set_ckpt(model, ckpt)
            model.train()
            r = one_step(model, layers, same if layout == "nopad" else seqs, labels, layout, backend, pad_id)
        except Exception as exc:  # noqa: BLE001
            r = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        r["variant"] = name
        rows.append(r)
        print(json.dumps(r), flush=True)
    model.get_base_model().set_attn_implementation("sdpa")
    set_ckpt(model, False)

    # profile one training step (batch 32, no ckpt) and one scoring batch (256)
    from torch.profiler import ProfilerActivity, profile

    prof_txt = []
    big = snli_like(32, seed=4)
    lab = torch.tensor([LABEL_IDS[i % 3] for i in range(32)]).cuda()
    batch = {k: v.cuda() for k, v in scoring.collate(big, pad_id).items()}

    def train_step():
        model.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = F.cross_entropy(scoring.answer_logits(model, batch), lab)
        loss.backward()

    for _ in range(2):
        train_step()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(3):
        train_step()
    torch.cuda.synchronize()
    info["train_step_b32_s"] = (time.perf_counter() - t) / 3
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        train_step()
        torch.cuda.synchronize()
    prof_txt.append("TRAIN b32\n" + prof.key_averages().table(sort_by="cuda_time_total", row_limit=25))
    model.eval()
    ev = snli_like(256, seed=5)
    eb = {k: v.cuda() for k, v in scoring.collate(ev, pad_id).items()}
    with torch.inference_mode():
        scoring.answer_logits(model, eb)
        torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(3):
            scoring.answer_logits(model, eb)
        torch.cuda.synchronize()
        info["eval_batch256_s"] = (time.perf_counter() - t) / 3
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            scoring.answer_logits(model, eb)
            torch.cuda.synchronize()
    prof_txt.append("EVAL b256\n" + prof.key_averages().table(sort_by="cuda_time_total", row_limit=25))
    (out / "profile.txt").write_text("\n\n".join(prof_txt))
    (out / "diag.json").write_text(json.dumps({"info": info, "rows": rows}, indent=1))
    print(json.dumps(info, indent=1))
    for r in rows:
        print(r)


if __name__ == "__main__":
    main()
