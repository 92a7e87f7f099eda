#!/usr/bin/env python3
"""Merge a trained LoRA adapter into its base model and save a standalone checkpoint.

    python scripts/merge_adapter.py --adapter models/adapter --out merged/

The adapter was trained and evaluated on the NF4-quantized base, so it is folded into the base's
NF4-rounded weights (dequantized once), not the original float weights: the merged model then
computes what the evaluated model computes. Before anything is saved, both are scored on a sample
(--sample, by default the test split) and the label agreement is reported; below --min-agreement
the script refuses and writes nothing. Load the result with `AutoModelForCausalLM.from_pretrained("merged/")`,
or set `model.name: merged/` and `model.quantization.load_in_4bit: false` in params.yaml.
"""

import argparse

import numpy as np

from nli.core import config, files
from nli.core.errors import UserError, run_stage
from nli.model import adapters, scoring
from nli.package import card
from nli.serving import inputs
from nli.train import training


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adapter", default="models/adapter")
    ap.add_argument("--out", required=True)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--sample", default="data/split/test.jsonl", help="pairs (JSONL/CSV) the check scores")
    ap.add_argument("--check-n", type=int, default=200, help="how many pairs of --sample to compare")
    ap.add_argument("--min-agreement", type=float, default=0.995)
    args = ap.parse_args()
    # the card names the data and the recipe
    params = config.load(args.params, ["data", "model", "prompt", "evaluate", "train", "lora"])
    adapters.check_adapter_folder(args.adapter)  # before any loading
    pairs = inputs.read_pairs(args.sample)[: max(1, args.check_n)]

    # exactly the evaluated model: the base as params load it (NF4 on GPU) plus the adapter
    classifier = scoring.load_classifier(
        params.model,
        params.prompt,
        batch_size=params.evaluate.batch_size,
        adapter=args.adapter,
        params_path=args.params,
    )
    training.keep_4bit_layout(classifier.model)  # the exact NF4 path, not bitsandbytes' bf16 CPU repack
    reference, _ = classifier.score(pairs, desc="check")
    base = classifier.model.unload()  # the base again, adapter layers removed
    layers = adapters.dequantize_4bit_layers(base, classifier.loaded.dtype)  # 0 on CPU: dequantized at load
    merged = classifier.model = adapters.load_adapter(base, args.adapter).merge_and_unload()
    result, _ = classifier.score(pairs, desc="check")

    agreement = float((reference.argmax(1) == result.argmax(1)).mean())
    shift = float(np.abs(scoring.probabilities(reference) - scoring.probabilities(result)).max())
    report = (
        f"label agreement with the evaluated model {agreement:.1%} on {len(pairs)} pairs of {args.sample} "
        f"(max |p difference| {shift:.2e}; {layers} 4-bit layers dequantized)"
    )
    if agreement < args.min_agreement:
        raise UserError(
            f"refusing to save: {report}, below --min-agreement {args.min_agreement:.1%}; the merged model would "
            f"not predict like the evaluated one (try compute_dtype fp32, or serve base + adapter instead)"
        )
    merged.config.use_cache = True
    with files.atomic_dir(args.out) as tmp:
        merged.save_pretrained(tmp, safe_serialization=True)
        classifier.loaded.tokenizer.save_pretrained(tmp)
        card.write(tmp, params, merged=True)  # the package stage's model card, for the merged model
        files.write_json(tmp / "merge_check.json", {"agreement": agreement, "max_prob_diff": shift, "n": len(pairs)})
    print(f"merged {args.adapter} into {params.model.name} -> {args.out}; {report}")


if __name__ == "__main__":
    run_stage(main)
