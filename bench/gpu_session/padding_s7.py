#!/usr/bin/env python3
"""How much padding the Phi-2 bench's training batches carry, against a pipeline-sized run (CPU, seconds).

    python3 bench/gpu_session/padding_s7.py   # prints and writes bench/results/gpu/padding_s7.json

Padded tokens over real ones in the batches Trainer's sampler (training.length_grouped_indices) makes of the bench's
SNLI-length sequences (45-95 tokens): a round of the fast row (batch 256, 8 steps) and of the report row (batch 4,
4 accumulated, 8 steps), as the bench draws them; the same batch sizes over the pipeline's 9,842-pair pool; and a
round drawn as a window of the pool's length-grouped order (the fix tried in session 7: Trainer shuffles it again).
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


def padding(seqs: list[list[int]], batch: int) -> float:
    order = training.length_grouped_indices([len(s) for s in seqs], batch, torch.Generator().manual_seed(0))
    batches = [[len(seqs[i]) for i in order[k : k + batch]] for k in range(0, len(order), batch)]
    return round(sum(max(b) * len(b) for b in batches) / sum(map(sum, batches)) - 1, 4)


def main() -> None:
    pool = gpu_bench.snli_like(9842, seed=1000)
    order = training.length_grouped_indices([len(s) for s in pool], 256, torch.Generator().manual_seed(0))
    window = [pool[i] for i in order[256 * 10 : 256 * 18]]  # eight consecutive batches of the pool's order
    out = {
        "bench_fast_round": padding(gpu_bench.snli_like(256 * 8, seed=0), 256),
        "bench_report_round": padding(gpu_bench.snli_like(16 * 8, seed=0), 4),
        "pipeline_pool_batch_256": padding(pool, 256),
        "pipeline_pool_batch_4": padding(pool, 4),
        "pooled_window_batch_256": padding(window, 256),
    }
    files.write_json(ROOT / "bench" / "results" / "gpu" / "padding_s7.json", out)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
