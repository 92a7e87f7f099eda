#!/usr/bin/env python3
"""How much padding the Phi-2 bench's training batches carry since session 8 (CPU, seconds).

    python3 bench/gpu_session/padding_s8.py   # prints and writes bench/results/gpu/padding_s8.json

Padded tokens over real ones in a round's timed batches as gpu_bench.pipeline_batches picks them (the fast row:
batch 256, 6 timed steps; the report row: 4 x 4 accumulated, micro-batches of 4, 6 timed steps), over the three
pools of a three-round process, beside a whole run over the pool (padding_s7.json has the draws of sessions 1-7).
"""

import importlib.util
import json
from pathlib import Path

import torch

from nli.core import files
from nli.train import training

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("gpu_bench", ROOT / "bench" / "gpu_bench.py")
gpu_bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpu_bench)


def padding(seqs: list[list[int]], micro: int) -> float:
    """Padded over real tokens when ``seqs`` run in order, ``micro`` at a time."""
    batches = [[len(s) for s in seqs[k : k + micro]] for k in range(0, len(seqs), micro)]
    return round(sum(max(b) * len(b) for b in batches) / sum(map(sum, batches)) - 1, 4)


def timed(batch: int, micro: int, seed: int, steps: int = 6, warmup: int = 2) -> tuple[float, float]:
    """Padding and mean real length of the timed steps of one round."""
    seqs = gpu_bench.pipeline_batches(batch, steps, warmup, seed)[batch * warmup :]
    return padding(seqs, micro), round(sum(map(len, seqs)) / len(seqs), 2)


def main() -> None:
    out = {}
    for seed in range(3):
        pool = gpu_bench.snli_like(gpu_bench.POOL, seed=1000 + seed)
        whole = training.length_grouped_indices([len(s) for s in pool], 256, torch.Generator().manual_seed(seed))
        out[f"round_{seed}"] = {
            "fast_timed_padding_and_mean_tokens": timed(256, 256, seed),
            "report_timed_padding_and_mean_tokens": timed(16, 4, seed),
            "whole_pool_batch_256_padding": padding([pool[i] for i in whole], 256),
            "pool_mean_tokens": round(sum(map(len, pool)) / len(pool), 2),
        }
    files.write_json(ROOT / "bench" / "results" / "gpu" / "padding_s8.json", out)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
