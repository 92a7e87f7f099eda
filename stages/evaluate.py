"""Stages `evaluate_baseline` and `evaluate_finetuned`: restricted label scoring on the test set.

The same code scores the pretrained model (zero- or few-shot) and the model with the trained
adapter, so the two numbers differ only by the adapter.
"""

import argparse
import time

import numpy as np
import pandas as pd

from nli.core import config, files
from nli.core.errors import UserError, run_stage
from nli.core.labels import LABELS, PREDICTION_COLUMNS
from nli.data import records
from nli.model import metrics, prompts, scoring


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--test", default="data/split/test.jsonl")
    ap.add_argument("--train", default=None, help="train set: source of few-shot examples (baseline)")
    ap.add_argument("--adapter", default=None, help="PEFT adapter folder (fine-tuned evaluation)")
    ap.add_argument("--predictions", required=True)
    ap.add_argument("--confusion", required=True, help="gold/predicted CSV for the confusion plot")
    ap.add_argument("--metrics", required=True)
    ap.add_argument("--run-log", required=True, help="run info and cost (not a DVC metric)")
    args = ap.parse_args()
    start = time.perf_counter()

    params = config.load(args.params, ["model", "prompt", "evaluate"])
    k = params["evaluate"]["few_shot_k"] if args.adapter is None else 0  # the adapter was trained zero-shot
    if k and not args.train:
        raise UserError("evaluate.few_shot_k > 0 needs --train (the pool the examples come from)")
    test = records.read_split(args.test)
    p_prompt = params["prompt"]
    prefix = (
        prompts.few_shot_prefix(
            p_prompt["template"], p_prompt["verbalizers"], records.read_split(args.train), k, params["seed"]
        )
        if k
        else ""
    )

    metrics.reset_peak_memory()
    classifier = scoring.load_classifier(params, params["evaluate"]["batch_size"], args.adapter, prefix, args.params)
    logprobs, speed = classifier.score(test, desc="evaluate")

    gold = np.array([r["label"] for r in test])
    pred = logprobs.argmax(axis=1)
    probs = scoring.probabilities(logprobs)
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
    )[[*PREDICTION_COLUMNS, *(f"logprob_{name}" for name in LABELS)]]  # the order compare reads
    with files.atomic_path(args.predictions) as tmp:
        table.to_csv(tmp, index=False)
    with files.atomic_path(args.confusion) as tmp:
        table[["gold", "predicted"]].to_csv(tmp, index=False)

    result = metrics.classification(gold, pred)
    # Metric names unique across files (base_acc in metrics/baseline.json, ft_acc in metrics/finetuned.json) keep
    # `dvc exp show` columns short; the adapter is what makes a run the fine-tuned one.
    who = "ft" if args.adapter else "base"
    files.write_json(args.metrics, {f"{who}_acc": result["accuracy"], f"{who}_f1": result["macro_f1"]})
    tokenizer = classifier.loaded.tokenizer
    files.write_run_log(
        args.run_log,
        info={
            **classifier.loaded.info,
            "adapter": args.adapter or "none",
            "few_shot_k": k,
            "label_tokens": dict(zip(LABELS, tokenizer.convert_ids_to_tokens(classifier.label_ids))),
        },
        cost={**speed, "stage_seconds": round(time.perf_counter() - start, 2), **metrics.peak_memory()},
    )
    print(
        f"accuracy {result['accuracy']:.4f}  macro-F1 {result['macro_f1']:.4f}  n={result['n']}  "
        f"{speed['examples_per_second']} ex/s"
    )


if __name__ == "__main__":
    run_stage(main)
