#!/usr/bin/env python3
"""CPU speed and memory of the embedded model's QLoRA paths, one configuration per process.

    python bench/cpu_bench.py --out bench/results/cpu_bench.json [--configs nf4-fp32,deq-bf16]

Scores real SNLI test prompts (data/split/test.jsonl from `dvc repro split`, else synthetic pairs)
through the project's scoring code and times LoRA training steps through the project's Trainer
loss, for NF4 weights dequantized on every forward (bitsandbytes' CPU path: the 4-bit layers as a GPU load
keeps them, which no stage runs on CPU) or once at load time (`nli.model.loading.load`, which on CPU
dequantizes with `nli.model.adapters.dequantize_4bit_layers`), in fp32 or bf16 compute. Also checks that both
NF4 paths give the same label log-probabilities. Run it with nothing else running: the numbers are wall-clock
rates. It writes only --out.
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

CONFIGS = {  # name: (compute dtype, dequantize once on CPU)
    "nf4-fp32": ("fp32", False),
    "nf4-bf16": ("bf16", False),
    "deq-fp32": ("fp32", True),
    "deq-bf16": ("bf16", True),
}
MODEL = {
    "name": "smollm2-135m",
    "device": "cpu",
    "quantization": {"load_in_4bit": True, "quant_type": "nf4", "double_quant": True},
}
VERBALIZERS = {"entailment": " yes", "neutral": " maybe", "contradiction": " no"}
TEMPLATE = (
    "Premise: {premise}\nHypothesis: {hypothesis}\nDoes the premise entail the hypothesis? "
    "Answer yes, maybe, or no.\nAnswer:"
)


def pairs(n: int) -> list[dict]:
    path = Path("data/split/test.jsonl")
    if path.is_file():
        rows = [json.loads(line) for line in path.read_text().splitlines()]
    else:
        rows = [
            {
                "premise": f"A man number {i} plays a guitar on a busy street.",
                "hypothesis": "A man plays.",
                "label": i % 3,
            }
            for i in range(n)
        ]
    return (rows * (n // len(rows) + 1))[:n]


def measure(name: str, n_eval: int, train_steps: int, batch: int) -> dict:
    import torch
    from peft import get_peft_model

    from nli.core import config
    from nli.model import cpu as cpu_paths
    from nli.model import loading, prompts, scoring, sources
    from nli.train import training

    dtype, dequantize = CONFIGS[name]
    start = time.perf_counter()
    if dequantize:  # what the stages run on CPU
        loaded = loading.load({**MODEL, "compute_dtype": dtype})
        model, tok = loaded.model, loaded.tokenizer
    else:  # bitsandbytes' 4-bit layers themselves, built as `loading.load` builds them on a GPU
        from transformers import AutoTokenizer

        source, torch_dtype = sources.resolve(MODEL["name"]), loading.DTYPES[dtype]
        tok = AutoTokenizer.from_pretrained(source)
        tok.pad_token, tok.padding_side = tok.pad_token or tok.eos_token, "left"
        quant = loading.quantization_config(config.model_section(**MODEL).quantization, torch_dtype)
        model = loading._from_pretrained(source, torch_dtype, quant, "cpu")
        cpu_paths.matrix_input_for_head(model.get_output_embeddings())
    load_seconds = time.perf_counter() - start
    label_ids = prompts.label_token_ids(tok, VERBALIZERS)
    rows = pairs(n_eval)
    encoded = scoring.encode(tok, [TEMPLATE.format(**{k: r[k] for k in ("premise", "hypothesis")}) for r in rows], 256)
    scoring.score(model, tok, encoded[:32], label_ids, 32, desc="warmup")
    cpu = time.process_time()
    logprobs, speed = scoring.score(model, tok, encoded, label_ids, 32, desc=name)
    eval_cpu_ms = 1000 * (time.process_time() - cpu) / len(encoded)

    lora = {"r": 16, "alpha": 32, "dropout": 0.05, "target_modules": "all-linear", "top_layers": 0}
    model = get_peft_model(model, training.lora_config(lora, model))
    model.train()
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    collate = training.make_collator(tok.pad_token_id)
    examples = training.make_examples(encoded, [r["label"] for r in rows], label_ids)
    times, cpu_times = [], []
    for step in range(train_steps + 1):
        batch_rows = collate(examples[step * batch : (step + 1) * batch])
        t, cpu = time.perf_counter(), time.process_time()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == "bf16"):
            logits = scoring.answer_logits(model, {k: v for k, v in batch_rows.items() if k != "labels"})
        loss = torch.nn.functional.cross_entropy(logits, batch_rows["labels"])
        loss.backward()
        optim.step()
        optim.zero_grad()
        times.append(time.perf_counter() - t)
        cpu_times.append(time.process_time() - cpu)
    step_seconds = sorted(times[1:])[len(times[1:]) // 2]
    step_cpu = sorted(cpu_times[1:])[len(cpu_times[1:]) // 2]
    return {
        "config": name,
        "compute_dtype": dtype,
        "dequantized_once": dequantize,
        "load_seconds": round(load_seconds, 2),
        "eval_examples_per_second": speed["examples_per_second"],
        "train_step_seconds": round(step_seconds, 3),
        "batch": batch,
        "train_examples_per_second": round(batch / step_seconds, 2),
        # CPU seconds (all threads) are far less sensitive to other load than wall time
        "eval_cpu_ms_per_example": round(eval_cpu_ms, 1),
        "train_cpu_ms_per_example": round(1000 * step_cpu / batch, 1),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "logprobs_head": logprobs[:64].round(4).tolist(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="bench/results/cpu_bench.json")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--eval-examples", type=int, default=256)
    ap.add_argument("--train-steps", type=int, default=4)
    ap.add_argument("--batch", type=int, default=16, help="training micro-batch")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # child process: measure one configuration
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.eval_examples, args.train_steps, args.batch)))
        return
    rows = []
    for name in args.configs.split(","):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                name,
                "--eval-examples",
                str(args.eval_examples),
                "--train-steps",
                str(args.train_steps),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    import numpy as np

    by = {r["config"]: r for r in rows}
    for a, b in (("nf4-fp32", "deq-fp32"), ("nf4-bf16", "deq-bf16")):
        if a in by and b in by:
            diff = np.abs(np.array(by[a]["logprobs_head"]) - np.array(by[b]["logprobs_head"])).max()
            by[b]["max_abs_logprob_diff_vs_" + a] = round(float(diff), 5)
    for r in rows:
        r.pop("logprobs_head")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps({"machine": "2 CPU cores (this repo's dev/CI kind)", "rows": rows}, indent=2) + "\n"
    )
    cols = [
        "load_seconds",
        "eval_examples_per_second",
        "eval_cpu_ms_per_example",
        "train_examples_per_second",
        "train_cpu_ms_per_example",
        "peak_rss_gb",
    ]
    print("| config | " + " | ".join(cols) + " | check |")
    for r in rows:
        check = {k: v for k, v in r.items() if k.startswith("max_abs")}
        print(f"| {r['config']} | " + " | ".join(str(r[c]) for c in cols) + f" | {check} |")


if __name__ == "__main__":
    main()
