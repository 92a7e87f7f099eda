#!/usr/bin/env python3
"""Two prompt templates, timed in one process with their runs interleaved (the machine's speed drifts by the minute).

    python bench/template_ab_bench.py --out bench/results/template_ab.json

--a defaults to the instruction template of conf/config.yaml, --b to params.yaml's. Three measures on the same pairs:
- train: forward + backward of 12 length-grouped micro-batches of train.batch_size, under the train stage's bf16
  autocast; each micro-batch runs with A and B back to back (order alternating), 4 rounds; median of the B/A ratios.
- evaluate: 320 test pairs scored in batches of evaluate.batch_size, 64 pairs at a time, alternating.
- predict: 100 test pairs one at a time with the predict --stream setup (adapter in bf16, prepacked weights).
Run it alone: on 2 cores anything else running changes the timings.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from peft.helpers import disable_input_dtype_casting

from nli.core import config, files
from nli.model import scoring
from nli.serving import prepacked
from nli.train import training


def paired(run_a, run_b, items: list) -> tuple[float, float, float]:
    """Each item timed with A and B back to back, the order alternating: (seconds A, seconds B, median B/A)."""
    a, b = [], []
    for i, item in enumerate(items):
        order = [(run_a, a), (run_b, b)] if i % 2 == 0 else [(run_b, b), (run_a, a)]
        for run, out in order:
            start = time.perf_counter()
            run(item)
            out.append(time.perf_counter() - start)
    return sum(a), sum(b), float(np.median(np.array(b) / np.array(a)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", default=yaml.safe_load(Path("conf/config.yaml").read_text())["prompt"]["template"])
    ap.add_argument("--b", default=None, help="default: params.yaml's template")
    ap.add_argument("--adapter", default="models/adapter")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    params = config.load("params.yaml", ["model", "prompt", "train", "lora", "evaluate"])
    templates = {"a": args.a, "b": args.b or params.prompt.template}
    train_rows = [json.loads(line) for line in Path("data/split/train.jsonl").read_text().splitlines()]
    test_rows = [json.loads(line) for line in Path("data/split/test.jsonl").read_text().splitlines()]
    result = {"template_a": templates["a"], "template_b": templates["b"]}

    # train: fresh LoRA on the base, as at the start of the train stage
    clf = scoring.load_classifier(params.model, params.prompt, batch_size=params.evaluate.batch_size)
    model = training.add_lora(clf.loaded.model, params.lora, seed=params.seed, model_name=params.model.name)
    model.train()
    size = params.train.batch_size
    picked = np.random.default_rng(0).choice(len(train_rows), 12 * size, replace=False)
    picked = sorted(picked, key=lambda i: len(train_rows[i]["premise"]) + len(train_rows[i]["hypothesis"]))
    collate = training.make_collator(clf.loaded.tokenizer.pad_token_id)
    batches = {}
    for key, template in templates.items():
        clf.template = template
        ids = clf.encode([train_rows[i] for i in picked])
        result[f"train_tokens_per_pair_{key}"] = round(float(np.mean([len(s) for s in ids])), 1)
        examples = training.make_examples(ids, [train_rows[i]["label"] for i in picked], clf.label_ids)
        batches[key] = [collate(examples[j : j + size]) for j in range(0, len(examples), size)]

    def step(batch):
        with torch.autocast("cpu", dtype=clf.loaded.dtype, enabled=clf.loaded.dtype == torch.bfloat16):
            logits = scoring.answer_logits(model, {k: v for k, v in batch.items() if k != "labels"})
        torch.nn.functional.cross_entropy(logits, batch["labels"]).backward()
        model.zero_grad(set_to_none=True)

    with disable_input_dtype_casting(model, active=True):
        pairs = [(batches["a"][j], batches["b"][j]) for j in range(len(batches["a"]))] * 4
        step(pairs[0][0]), step(pairs[0][1])
        a, b, ratio = paired(lambda p: step(p[0]), lambda p: step(p[1]), pairs)
    result.update(train_seconds_a=round(a, 2), train_seconds_b=round(b, 2), train_ratio_b_over_a=round(ratio, 3))

    # evaluate and predict: the trained adapter
    clf = scoring.load_classifier(
        params.model, params.prompt, batch_size=params.evaluate.batch_size, adapter=args.adapter
    )

    def score(template, rows):
        clf.template = template
        clf.score(rows, progress=False)

    score(templates["a"], test_rows[:32]), score(templates["b"], test_rows[:32])
    chunks = [test_rows[j : j + 64] for j in range(0, 320, 64)]
    a, b, ratio = paired(lambda c: score(templates["a"], c), lambda c: score(templates["b"], c), chunks)
    result.update(evaluate_seconds_a=round(a, 2), evaluate_seconds_b=round(b, 2))
    result["evaluate_ratio_b_over_a"] = round(ratio, 3)
    with scoring.adapter_in_compute_dtype(clf.model), prepacked.prepacked(clf.model):
        for row in test_rows[:5]:
            score(templates["a"], [row]), score(templates["b"], [row])
        singles = [[row] for row in test_rows[:100]]
        a, b, ratio = paired(lambda r: score(templates["a"], r), lambda r: score(templates["b"], r), singles)
    result.update(predict_ms_per_pair_a=round(10 * a, 1), predict_ms_per_pair_b=round(10 * b, 1))
    result["predict_ratio_b_over_a"] = round(ratio, 3)

    print("| measure | value |\n|---|---|")
    for key, value in result.items():
        print(f"| {key} | {value!r} |")
    if args.out:
        files.write_json(args.out, result)


if __name__ == "__main__":
    main()
