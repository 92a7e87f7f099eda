#!/usr/bin/env python3
"""Merge a trained LoRA adapter into its base model and save a standalone checkpoint.

    python scripts/merge_adapter.py --adapter models/adapter --out merged/

The base is loaded unquantized (merging into 4-bit weights would round the update away), the
adapter is folded in with PEFT's `merge_and_unload`, and the result is saved as safetensors with
its tokenizer: load it with `AutoModelForCausalLM.from_pretrained("merged/")`, or set
`model.name: merged/` and `model.quantization.load_in_4bit: false` in params.yaml.
"""

import argparse

from nli import config, io, modeling
from nli.errors import run_stage


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adapter", default="models/adapter")
    ap.add_argument("--out", required=True)
    ap.add_argument("--params", default="params.yaml")
    args = ap.parse_args()
    params = config.load(args.params, ["model"])
    loaded = modeling.load({**params["model"], "quantization": {"load_in_4bit": False}})
    merged = modeling.load_adapter(loaded.model, args.adapter).merge_and_unload()
    with io.atomic_dir(args.out) as tmp:
        merged.save_pretrained(tmp, safe_serialization=True)
        loaded.tokenizer.save_pretrained(tmp)
    print(f"merged {args.adapter} into {params['model']['name']} -> {args.out}")


if __name__ == "__main__":
    run_stage(main)
