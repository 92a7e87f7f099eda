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
from pathlib import Path

import numpy as np

from nli.core import config, files
from nli.core.errors import ArgumentParser, UserError, fraction, positive_int, run_stage
from nli.model import adapters, scoring
from nli.package import card
from nli.serving import inputs

MERGE_MARK = "merge_check.json"  # in every folder this script writes: a previous merge may be replaced


def check_out(out: Path, adapter: Path) -> None:
    """--out is replaced whole, so it must be new, empty or an earlier merge: never the adapter, a folder that
    holds or is held by the adapter, nor a folder of other files."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a folder path for the merged model")
    real_out, real_adapter = out.resolve(), adapter.resolve()
    if real_out == real_adapter or real_out in real_adapter.parents or real_adapter in real_out.parents:
        raise UserError(
            f"--out {out} is or overlaps the adapter folder {adapter}, which the merged model would replace; "
            f"give another folder such as merged/"
        )
    if out.is_dir() and any(out.iterdir()) and not (out / MERGE_MARK).is_file():
        shown = ", ".join(sorted(p.name for p in out.iterdir())[:5])
        raise UserError(
            f"--out {out} already holds other files ({shown}) and would be replaced whole; give a new or empty "
            f"folder (or an earlier merge output, which holds {MERGE_MARK})"
        )


def main() -> None:
    ap = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adapter", default="models/adapter")
    ap.add_argument("--out", required=True)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--sample", default="data/split/test.jsonl", help="pairs (JSONL/CSV) the check scores")
    ap.add_argument("--check-n", type=positive_int, default=200, help="how many pairs of --sample to compare")
    ap.add_argument("--min-agreement", type=fraction, default=0.995, help="label agreement needed, in [0, 1]")
    args = ap.parse_args()
    # the card names the data and the recipe
    params = config.load(args.params, ["data", "model", "prompt", "evaluate", "train", "lora"])
    adapters.check_adapter_folder(args.adapter)  # before any loading
    check_out(Path(args.out), Path(args.adapter))
    pairs = inputs.read_pairs(args.sample)[: args.check_n]

    # exactly the evaluated model: the base as params load it (NF4 on GPU) plus the adapter
    classifier = scoring.load_classifier(
        params.model,
        params.prompt,
        batch_size=params.evaluate.batch_size,
        adapter=args.adapter,
        params_path=args.params,
    )
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
        files.write_json(tmp / MERGE_MARK, {"agreement": agreement, "max_prob_diff": shift, "n": len(pairs)})
    print(f"merged {args.adapter} into {params.model.name} -> {args.out}; {report}")


if __name__ == "__main__":
    run_stage(main)
