#!/usr/bin/env python3
"""Label new premise/hypothesis pairs with the base model plus a trained adapter.

    python scripts/predict.py --input pairs.jsonl --output predictions.jsonl
    echo '{"premise": "A man sleeps.", "hypothesis": "A man is awake."}' | python scripts/predict.py
    python scripts/predict.py --stream          # keep the model loaded; answer each stdin line as it arrives

Input: JSONL or CSV (by extension; `-` = standard input, JSONL) with `premise` and `hypothesis`
(other fields are passed through). Output: JSONL with the predicted label and the probability of
each label (softmax over the three label tokens, divided by the temperature that evaluate_finetuned
fitted on the validation split: `temperature.json` in the adapter folder, as packaged, or next to it,
models/temperature.json for models/adapter; --temperature names another file or `none`). Model, prompt
and batch size come from params.yaml, and scoring is the evaluate stages' own (`nli.scoring.Classifier`), so predictions
match `evaluate_finetuned` exactly. Load time and per-pair latency go to standard error.

With --stream on CPU the adapter is merged into the NF4-rounded base once and cached (`nli.serving.merged`): a third
less time a pair and a faster start. One pair at a time moves the bf16 numbers either way (merged: 499 of 500
test labels as evaluate_finetuned, unmerged: 498); --unmerged keeps base and adapter apart, as the evaluate
stages compute.
"""

import argparse
import io as bytes_io
import json
import sys
import time
from pathlib import Path

import numpy as np

from nli.core import config, files
from nli.core.errors import ArgumentParser, UserError, positive_int, run_stage
from nli.model import scoring, temperature
from nli.serving import inputs, merged, prepacked
from nli.serving.packaged import labelled


def find_temperature(option: str | None, adapter: str | None) -> float:
    """T from --temperature (a file, or 'none' for 1), else from the adapter's own or neighbouring file."""
    if option is not None:
        return 1.0 if option.lower() == "none" else temperature.read(option)
    if not adapter:
        return 1.0  # the base model alone was never calibrated
    for candidate in (Path(adapter) / "temperature.json", Path(adapter).parent / "temperature.json"):
        if candidate.is_file():
            return temperature.read(candidate)
    print(f"no temperature.json in or next to {adapter}: probabilities are not temperature-scaled", file=sys.stderr)
    return 1.0


def stream(classifier: scoring.Classifier, temp: float) -> None:
    """One JSON pair per stdin line in, one labelled JSON line out, flushed as soon as it is scored."""
    latencies = []
    for lineno, raw in enumerate(sys.stdin.buffer, 1):
        if not raw.strip():
            continue
        start = time.perf_counter()
        try:  # the same checks as batch input, one line at a time
            pair = inputs.read_pairs("-", stdin=bytes_io.BytesIO(raw))[0]
            classifier.warn_truncated([pair], "predict --stream", [lineno])
            logprobs, _ = classifier.score([pair], progress=False)
            out = labelled([pair], logprobs, temp)[0]
        except UserError as exc:  # report the bad line, keep serving the rest
            out = {"error": f"stdin line {lineno}: {str(exc).removeprefix('<stdin>:1: ')}"}
        except (ValueError, RecursionError, MemoryError, RuntimeError) as exc:  # a server survives any one line
            print(f"warning: stdin line {lineno}: {type(exc).__name__}: {str(exc)[:200]}", file=sys.stderr)
            out = {"error": f"stdin line {lineno}: could not be scored ({type(exc).__name__}); see standard error"}
        print(json.dumps(out, ensure_ascii=False), flush=True)
        latencies.append(time.perf_counter() - start)
    if latencies:
        print(
            f"{len(latencies)} pairs, latency per pair: median {1000 * np.median(latencies):.0f} ms, "
            f"max {1000 * max(latencies):.0f} ms",
            file=sys.stderr,
        )


def main() -> None:
    ap = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", default="-")
    ap.add_argument("--output", default="-")
    ap.add_argument("--adapter", default="models/adapter", help="PEFT adapter folder ('' for the base model)")
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--batch-size", type=positive_int, default=None, help="default: params.yaml evaluate.batch_size")
    ap.add_argument("--stream", action="store_true", help="answer each stdin line as it arrives (model stays loaded)")
    ap.add_argument("--unmerged", action="store_true", help="--stream: keep the adapter apart from the base weights")
    ap.add_argument(
        "--temperature", default=None, help="temperature JSON file, or 'none' (default: the adapter's temperature.json)"
    )
    args = ap.parse_args()

    start = time.perf_counter()
    params = config.load(args.params, ["model", "prompt", "evaluate"])
    pairs = None if args.stream else inputs.read_pairs(args.input)
    if not args.stream and args.output != "-":
        files.check_output_file(args.output)  # a folder given as --output fails now, not after scoring
    adapter = args.adapter or None
    model = params.model
    merged_model = merged.merged_model_params(model, adapter) if args.stream and adapter and not args.unmerged else None
    temp = find_temperature(args.temperature, adapter)
    if merged_model:
        print(f"adapter merged into the base once: {merged_model.name} (--unmerged keeps them apart)", file=sys.stderr)
        model, adapter = merged_model, None
    classifier = scoring.load_classifier(
        model,
        params.prompt,
        batch_size=args.batch_size or params.evaluate.batch_size,
        adapter=adapter,
        params_path=args.params,
    )
    if args.stream:
        classifier.score([{"premise": "A dog runs.", "hypothesis": "An animal moves."}], progress=False)  # warm-up
    print(f"model ready in {time.perf_counter() - start:.1f}s", file=sys.stderr, flush=True)
    if args.stream:
        # cast the adapter and pack the CPU weights once, not once a pair
        with scoring.adapter_in_compute_dtype(classifier.model), prepacked.prepacked(classifier.model):
            return stream(classifier, temp)

    start = time.perf_counter()
    classifier.warn_truncated(pairs, f"predict {args.input}")
    logprobs, _ = classifier.score(pairs, desc="predict")
    with files.atomic_open(args.output) as out:  # a failed write leaves the previous file as it was
        out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in labelled(pairs, logprobs, temp))
    seconds = time.perf_counter() - start
    print(
        f"predicted {len(pairs)} pairs in {seconds:.1f}s ({len(pairs) / seconds:.1f} pairs/s, "
        f"{1000 * seconds / len(pairs):.0f} ms per pair)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    run_stage(main)
