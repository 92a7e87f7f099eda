#!/usr/bin/env python3
"""Session 6: may the GPU load the CPU path's NF4-rounded cache (loading.nf4_rounded) instead of quantizing?

    python3 bench/gpu_session/nf4_cache_s6.py [--model smollm2-135m] [--rounds 3] --out nf4_cache.json

1. Exactness, on the embedded model itself (tests/model/test_gpu.py checks the same on the tiny Llama): every
   layer bitsandbytes quantizes, as materialised on the GPU (``quantization.materialize``, the GPU stages' path)
   against the cache that bitsandbytes' CPU quantization writes. Any difference would move every GPU figure.
2. What it would save a stage: the GPU load as committed (``loading.load``: bitsandbytes quantizes on the GPU, then
   the 4-bit layers are dequantized once) against the cache's bf16 weights read and moved to the GPU, interleaved
   over the rounds in this one process after a warm-up of each. bitsandbytes' own import is not in it: PEFT imports
   bitsandbytes whenever it is installed (``peft.helpers``), so only a stage that never imports PEFT would save it.
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

from nli.core import config
from nli.model import loading, sources

NF4 = {"load_in_4bit": True, "quant_type": "nf4", "double_quant": True, "materialize": True}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--device", default="cuda", help="cpu: a smoke test of this script only (both ways are the cache)")
    args = ap.parse_args()
    section = config.model_section(name=args.model, device=args.device, compute_dtype="bf16", quantization=NF4)
    source = sources.resolve(args.model)
    t = time.perf_counter()
    folder = loading.nf4_rounded(source, section.quantization, torch.bfloat16)
    build_s = time.perf_counter() - t
    gpu = loading.load(section).model
    cached = {}
    for f in sorted(folder.glob("*.safetensors")):
        cached |= load_file(str(f))
    layers = json.loads((folder / loading.NF4_LAYERS).read_text())
    unequal, worst = [], 0.0
    for name in layers:
        a, b = cached[f"{name}.weight"], gpu.get_submodule(name).weight.detach().cpu()
        if not torch.equal(a, b):
            unequal.append(name)
            worst = max(worst, (a.float() - b.float()).abs().max().item())
    others = [k for k in cached if k.removesuffix(".weight") not in layers]
    state = gpu.state_dict()
    others_unequal = [k for k in others if k in state and not torch.equal(cached[k], state[k].detach().cpu())]
    del gpu

    def sync():
        if args.device == "cuda":
            torch.cuda.synchronize()

    def committed():
        return loading.load(section).model

    def from_cache():
        return loading._from_nf4_rounded(folder, torch.bfloat16).to(args.device)

    ways = {"bitsandbytes on the GPU (committed)": committed, "NF4-rounded cache to the GPU": from_cache}
    seconds = {w: [] for w in ways}
    for r in range(args.rounds + 1):  # round 0 warms up
        for w, fn in ways.items():
            sync()
            t = time.perf_counter()
            m = fn()
            sync()
            if r:
                seconds[w].append(round(time.perf_counter() - t, 3))
            del m
    out = {
        "model": args.model,
        "card": torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu",
        "nf4_layers": len(layers),
        "nf4_layers_unequal": unequal,
        "max_abs_difference": worst,
        "other_tensors": len(others),
        "other_tensors_unequal": others_unequal,
        "cache_build_seconds": round(build_s, 2),
        "load_seconds": {w: {"rounds": s, "median": statistics.median(s)} for w, s in seconds.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"{args.model}: {len(layers)} NF4 layers, {len(unequal)} unequal (max |diff| {worst}); other tensors "
          f"{len(others)}, {len(others_unequal)} unequal; cache built in {build_s:.1f} s")  # fmt: skip
    print("| load | seconds by round | median |\n|---|---|---|")
    for w, s in seconds.items():
        print(f"| {w} | {', '.join(map(str, s))} | {statistics.median(s)} |")


if __name__ == "__main__":
    main()
