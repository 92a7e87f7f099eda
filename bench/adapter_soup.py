#!/usr/bin/env python3
"""One LoRA adapter whose weight update is the mean of several adapters' updates (a "soup" of training seeds).

    python bench/adapter_soup.py --adapters runs/s1/models/adapter runs/s2/models/adapter --out /tmp/soup

LoRA adapters trained from different seeds start from different random A matrices, so averaging their A and B
weights one by one means nothing; their updates ``scale * B @ A`` can be averaged, and the mean is itself a LoRA
update of rank k * r: A stacked, B side by side and divided by k, alpha times k so that alpha / r (the scale)
stays. The result is an ordinary PEFT adapter folder: `stages/evaluate.py --adapter` scores it like any other
(one model, the same cost once merged). A measurement tool: weigh it on validation before it becomes a train
param.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from nli.core.artifacts import ADAPTER_FILES  # noqa: E402
from nli.core.errors import UserError  # noqa: E402


def soup(folders: list[Path]) -> tuple[dict, dict[str, torch.Tensor]]:
    """(adapter_config, weights) of the mean of the adapters in ``folders``."""
    configs = [json.loads((f / ADAPTER_FILES[0]).read_text()) for f in folders]
    weights = [load_file(str(f / ADAPTER_FILES[1])) for f in folders]
    first = configs[0]
    same = ("r", "lora_alpha", "target_modules", "base_model_name_or_path", "use_rslora", "use_dora")
    for f, c, w in zip(folders, configs, weights):
        if any(c.get(k) != first.get(k) for k in same) or w.keys() != weights[0].keys():
            raise UserError(f"{f}: not the same LoRA setup as {folders[0]} ({', '.join(same)} and weight names)")
    if first.get("use_rslora") or first.get("use_dora") or first.get("rank_pattern") or first.get("alpha_pattern"):
        raise UserError(f"{folders[0]}: only plain LoRA (no rsLoRA, DoRA or per-module ranks) can be souped here")
    k = len(folders)
    out = {}
    for name in weights[0]:
        parts = [w[name] for w in weights]
        if ".lora_A." in name:
            out[name] = torch.cat(parts, dim=0).contiguous()  # (k*r, in)
        elif ".lora_B." in name:
            out[name] = (torch.cat(parts, dim=1) / k).to(parts[0].dtype).contiguous()  # (out, k*r)
        else:
            raise UserError(f"{folders[0]}: weight {name} is neither lora_A nor lora_B; cannot soup it")
    return {**first, "r": first["r"] * k, "lora_alpha": first["lora_alpha"] * k}, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adapters", nargs="+", required=True, type=Path, help="PEFT adapter folders (two or more)")
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()
    try:
        config, weights = soup(args.adapters)
    except UserError as exc:
        raise SystemExit(f"error: {exc}") from None
    args.out.mkdir(parents=True, exist_ok=True)
    save_file(weights, str(args.out / ADAPTER_FILES[1]))
    (args.out / ADAPTER_FILES[0]).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    print(f"{args.out}: mean of {len(args.adapters)} adapters, r {config['r']}, alpha {config['lora_alpha']}")


if __name__ == "__main__":
    main()
