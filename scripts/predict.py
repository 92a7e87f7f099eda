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

import pandas as pd
from scipy.special import softmax

from nli import config, data, modeling, prompts, scoring
from nli.errors import UserError, run_stage
from nli.prompts import LABELS


def read_pairs(path: str) -> list[dict]:
    if path == "-":
        rows = [(i, json.loads(line)) for i, line in enumerate(sys.stdin, 1) if line.strip()]
    elif path.endswith(".csv"):
        rows = list(enumerate(pd.read_csv(path, keep_default_na=False).to_dict("records"), 2))
    else:
        rows = data.read_jsonl(path)
    for lineno, row in rows:
        for key in ("premise", "hypothesis"):
            if not isinstance(row, dict) or not str(row.get(key, "")).strip():
                raise UserError(f"{path}:{lineno}: field {key!r} is missing or empty")
    return [row for _, row in rows]


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
    pairs = read_pairs(args.input)
    loaded = modeling.load(params["model"])
    label_ids = prompts.label_token_ids(loaded.tokenizer, params["prompt"]["verbalizers"])
    model = loaded.model
    if args.adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, args.adapter)
    start = time.perf_counter()
    encoded = scoring.encode(
        loaded.tokenizer,
        [prompts.format_prompt(template, str(p["premise"]), str(p["hypothesis"])) for p in pairs],
        params["prompt"]["max_length"],
    )
    logprobs, _ = scoring.score(
        model, loaded.tokenizer, encoded, label_ids, args.batch_size or params["evaluate"]["batch_size"], desc="predict"
    )
    probs = softmax(logprobs, axis=1)
    out = sys.stdout if args.output == "-" else open(args.output, "w")  # noqa: SIM115 (rewritten with the scorer)
    for pair, p in zip(pairs, probs):
        row = {
            **pair,
            "predicted": LABELS[int(p.argmax())],
            **{f"p_{name}": round(float(p[i]), 5) for i, name in enumerate(LABELS)},
        }
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    if out is not sys.stdout:
        out.close()
    seconds = time.perf_counter() - start
    print(f"predicted {len(pairs)} pairs in {seconds:.1f}s ({len(pairs) / seconds:.1f} pairs/s)", file=sys.stderr)


if __name__ == "__main__":
    run_stage(main)
