"""Stages `evaluate_baseline` and `evaluate_finetuned`: restricted label scoring on the test set.

The same code scores the pretrained model (zero- or few-shot) and the model with the trained
adapter, so the two numbers differ only by the adapter.
"""

import argparse

import numpy as np
import pandas as pd

from nli import config, data, io, metrics, modeling, prompts, scoring
from nli.errors import UserError, run_stage
from nli.prompts import LABELS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--test", default="data/split/test.jsonl")
    ap.add_argument("--train", default=None, help="train set: source of few-shot examples (baseline)")
    ap.add_argument("--adapter", default=None, help="PEFT adapter folder (fine-tuned evaluation)")
    ap.add_argument("--predictions", required=True)
    ap.add_argument("--confusion", required=True, help="gold/predicted CSV for the confusion plot")
    ap.add_argument("--metrics", required=True)
    args = ap.parse_args()

    params = config.load(args.params, ["model", "prompt", "evaluate"])
    p_prompt, p_eval = params["prompt"], params["evaluate"]
    template = prompts.check_template(p_prompt["template"])
    k = p_eval["few_shot_k"] if args.adapter is None else 0  # the adapter was trained zero-shot
    if k and not args.train:
        raise UserError("evaluate.few_shot_k > 0 needs --train (the pool the examples come from)")
    test = data.read_split(args.test)
    prefix = (
        prompts.few_shot_prefix(template, p_prompt["verbalizers"], data.read_split(args.train), k, params["seed"])
        if k
        else ""
    )

    metrics.reset_peak_memory()
    loaded = modeling.load(params["model"])
    label_ids = prompts.label_token_ids(loaded.tokenizer, p_prompt["verbalizers"])
    prompts.check_max_length(loaded.tokenizer, template, p_prompt["max_length"], args.params)
    model = modeling.load_adapter(loaded.model, args.adapter) if args.adapter else loaded.model
    encoded = scoring.encode(
        loaded.tokenizer,
        [prompts.format_prompt(template, r["premise"], r["hypothesis"], prefix) for r in test],
        p_prompt["max_length"] + len(loaded.tokenizer.encode(prefix)),
    )
    logprobs, speed = scoring.score(model, loaded.tokenizer, encoded, label_ids, p_eval["batch_size"], desc="evaluate")

    gold = np.array([r["label"] for r in test])
    pred = logprobs.argmax(axis=1)
    probs = np.exp(logprobs - logprobs.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)  # distribution over the three label tokens
    table = pd.DataFrame(
        {
            "id": [r["id"] for r in test],
            "premise": [r["premise"] for r in test],
            "hypothesis": [r["hypothesis"] for r in test],
            "gold": [LABELS[i] for i in gold],
            "predicted": [LABELS[i] for i in pred],
            "correct": (gold == pred).astype(int),
            **{f"p_{name}": probs[:, i].round(5) for i, name in enumerate(LABELS)},
            "confidence": probs.max(axis=1).round(5),
            **{f"logprob_{name}": logprobs[:, i].round(4) for i, name in enumerate(LABELS)},
        }
    )
    with io.atomic_path(args.predictions) as tmp:
        table.to_csv(tmp, index=False)
    with io.atomic_path(args.confusion) as tmp:
        table[["gold", "predicted"]].to_csv(tmp, index=False)

    result = metrics.classification(gold, pred)
    io.write_json(
        args.metrics,
        {
            **result,
            "few_shot_k": k,
            "adapter": bool(args.adapter),
            "label_tokens": {name: loaded.tokenizer.convert_ids_to_tokens(i) for name, i in zip(LABELS, label_ids)},
            **speed,
            **metrics.peak_memory(),
            **loaded.info,
        },
    )
    print(
        f"accuracy {result['accuracy']:.4f}  macro-F1 {result['macro_f1']:.4f}  n={result['n']}  "
        f"{speed['examples_per_second']} ex/s"
    )


if __name__ == "__main__":
    run_stage(main)
