#!/usr/bin/env python3
"""Label new premise/hypothesis pairs with the base model plus a trained adapter.

    python scripts/predict.py --input pairs.jsonl --output predictions.jsonl
    echo '{"premise": "A man sleeps.", "hypothesis": "A man is awake."}' | python scripts/predict.py

Input: JSONL or CSV (by extension; `-` = standard input, JSONL) with `premise` and `hypothesis`
(other fields are passed through). Output: JSONL with the predicted label and the probability of
each label (softmax over the three label tokens). Model, prompt and batch size come from
params.yaml, so predictions match the `evaluate_finetuned` stage exactly.
"""

import argparse
import json
import sys
import time

from scipy.special import softmax

from nli import config, data, io, modeling, prompts, scoring
from nli.errors import run_stage
from nli.prompts import LABELS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", default="-")
    ap.add_argument("--output", default="-")
    ap.add_argument("--adapter", default="models/adapter", help="PEFT adapter folder ('' for the base model)")
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--batch-size", type=int, default=None)
    args = ap.parse_args()

    params = config.load(args.params, ["model", "prompt", "evaluate"])
    template = prompts.check_template(params["prompt"]["template"])
    pairs = data.read_pairs(args.input)
    loaded = modeling.load(params["model"])
    label_ids = prompts.label_token_ids(loaded.tokenizer, params["prompt"]["verbalizers"])
    prompts.check_max_length(loaded.tokenizer, template, params["prompt"]["max_length"], args.params)
    model = modeling.load_adapter(loaded.model, args.adapter) if args.adapter else loaded.model
    start = time.perf_counter()
    encoded = scoring.encode(
        loaded.tokenizer,
        [prompts.format_prompt(template, p["premise"], p["hypothesis"]) for p in pairs],
        params["prompt"]["max_length"],
    )
    logprobs, _ = scoring.score(
        model, loaded.tokenizer, encoded, label_ids, args.batch_size or params["evaluate"]["batch_size"], desc="predict"
    )
    probs = softmax(logprobs, axis=1)
    with io.atomic_open(args.output) as out:  # a failed write leaves the previous file as it was
        for pair, p in zip(pairs, probs):
            row = {
                **pair,
                "predicted": LABELS[int(p.argmax())],
                **{f"p_{name}": round(float(p[i]), 5) for i, name in enumerate(LABELS)},
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    seconds = time.perf_counter() - start
    print(f"predicted {len(pairs)} pairs in {seconds:.1f}s ({len(pairs) / seconds:.1f} pairs/s)", file=sys.stderr)


if __name__ == "__main__":
    run_stage(main)
