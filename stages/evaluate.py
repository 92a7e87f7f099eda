"""Stages `evaluate_baseline` and `evaluate_finetuned`: restricted label scoring on the test set.

The same code scores the pretrained model (zero- or few-shot) and the model with the trained
adapter, so the two numbers differ only by the adapter. With --val (the fine-tuned evaluation) it also
scores the validation split, fits a temperature there (nli.model.temperature), writes it to --temperature
and reports the test probabilities after it; the raw label log-probabilities stay in the logprob_* columns.
"""

import time

import _checkout  # noqa: F401  (first: this checkout's library, also in a queued experiment's copy)
import numpy as np
import pandas as pd

from nli.core import config, files, records
from nli.core.errors import ArgumentParser, UserError, run_stage
from nli.core.labels import LABELS, PREDICTION_COLUMNS
from nli.model import metrics, prompts, scoring, temperature


def main() -> None:
    ap = ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--test", default="data/split/test.jsonl")
    ap.add_argument("--train", default=None, help="train set: source of few-shot examples (baseline)")
    ap.add_argument("--adapter", default=None, help="PEFT adapter folder (fine-tuned evaluation)")
    ap.add_argument("--val", default=None, help="validation split: fit a temperature on it (fine-tuned evaluation)")
    ap.add_argument("--temperature", default=None, help="where --val writes the fitted temperature (JSON)")
    ap.add_argument("--predictions", required=True)
    ap.add_argument("--confusion", required=True, help="gold/predicted CSV for the confusion plot")
    ap.add_argument("--metrics", required=True)
    ap.add_argument("--run-log", required=True, help="run info and cost (not a DVC metric)")
    args = ap.parse_args()
    start = time.perf_counter()

    params = config.load(args.params, ["model", "prompt", "evaluate"])
    k = params.evaluate.few_shot_k if args.adapter is None else 0  # the adapter was trained zero-shot
    if k and not args.train:
        raise UserError("evaluate.few_shot_k > 0 needs --train (the pool the examples come from)")
    if bool(args.val) != bool(args.temperature):
        raise UserError("--val and --temperature go together: the temperature is fitted on the validation split")
    test = records.read_split(args.test)
    prefix = prompts.few_shot_prefix(params.prompt, records.read_split(args.train), k, params.seed) if k else ""
    val = records.read_split(args.val) if args.val else None

    metrics.reset_peak_memory()
    classifier = scoring.load_classifier(
        params.model,
        params.prompt,
        batch_size=params.evaluate.batch_size,
        adapter=args.adapter,
        prefix=prefix,
        params_path=args.params,
        merge=params.evaluate.merge_adapter,
    )
    classifier.warn_truncated(test, f"evaluate {args.test}")
    logprobs, speed = classifier.score(test, desc="evaluate")
    fitted = {"temperature": 1.0}
    if val is not None:
        val_logprobs, _ = classifier.score(val, desc="validation (temperature)")
        val_gold = np.array([r["label"] for r in val])
        fitted = temperature.write(args.temperature, temperature.fit(val_logprobs, val_gold), val_logprobs, val_gold)

    gold = np.array([r["label"] for r in test])
    pred = logprobs.argmax(axis=1)
    probs = temperature.probabilities(logprobs, fitted["temperature"])
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
            "temperature": fitted["temperature"],
            "label_tokens": dict(zip(LABELS, tokenizer.convert_ids_to_tokens(classifier.label_ids))),
        },
        cost={**speed, "stage_seconds": round(time.perf_counter() - start, 2), **metrics.peak_memory()},
    )
    print(
        f"accuracy {result['accuracy']:.4f}  macro-F1 {result['macro_f1']:.4f}  n={result['n']}  "
        f"{speed['examples_per_second']} ex/s"
        + (
            f"  temperature {fitted['temperature']} (validation NLL {fitted['nll_before']} -> {fitted['nll_after']})"
            if val is not None
            else ""
        )
    )


if __name__ == "__main__":
    run_stage(main)
