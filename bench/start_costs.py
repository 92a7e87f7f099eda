#!/usr/bin/env python3
"""What a GPU stage pays before and after its real work: interpreter, imports, CUDA start, model load, exit.

    python bench/start_costs.py --out OUT.json [--model PARAMS.yaml] [--repeats 2]

Each piece runs in a fresh interpreter (as a stage does), timed from outside (wall seconds of the whole process)
and, where it helps, from inside (seconds of the step itself). ``-X importtime`` lists the heaviest imports of the
train stage's module. With --model (a params file of the embedded model), it also splits `loading.load` (tokenizer,
from_pretrained with NF4 quantization to the GPU, materialising) and the tokenizing of the offline pool's pairs.
Medians of --repeats runs (the first run of an import also compiles bytecode: it is reported apart).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PIECES = {
    "python_bare": "pass",
    "import_torch": "import torch",
    "import_trainer": "from transformers import Trainer",
    "import_peft": "import peft",
    "import_stage_evaluate": "import evaluate",
    "import_stage_train": "import train",
    "cuda_init": "import torch, time; t = time.perf_counter(); torch.zeros(1, device='cuda'); "
    "torch.cuda.synchronize(); print('INNER', time.perf_counter() - t)",
    # from the last line printed to the process's end: interpreter teardown with a CUDA context and 1 GB allocated
    "cuda_exit": "import torch, time; x = torch.zeros(2**28, device='cuda'); torch.cuda.synchronize(); "
    "print('EXIT_AT', time.time(), flush=True)",
}

LOAD = """
import time, json, sys
t0 = time.perf_counter()
import torch
from nli.core import config
from nli.model import loading, scoring, sources
t1 = time.perf_counter()
torch.zeros(1, device="cuda"); torch.cuda.synchronize()
t2 = time.perf_counter()
params = config.load(sys.argv[1], ["model", "prompt", "evaluate"])
src = sources.resolve(params.model.name)
t3 = time.perf_counter()
clf = scoring.load_classifier(params.model, params.prompt, batch_size=512, params_path=sys.argv[1])
torch.cuda.synchronize()
t4 = time.perf_counter()
pairs = [json.loads(line) for line in open(sys.argv[2])]
encoded = clf.encode(pairs)
t5 = time.perf_counter()
print("INNER", json.dumps({"imports": t1 - t0, "cuda_init": t2 - t1, "resolve_cached_model": t3 - t2,
                           "load_classifier": t4 - t3, "tokenize_pairs": t5 - t4, "pairs": len(pairs)}))
sys.stdout.flush()
print("EXIT_AT", time.time())
"""


def run(code: str, env: dict, argv=()) -> tuple[float, str, float]:
    start = time.perf_counter()
    wall_start = time.time()
    proc = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - start
    end = time.time()
    if proc.returncode:
        return wall, "ERROR " + proc.stderr.strip().splitlines()[-1][:200], 0.0
    exit_seconds = 0.0
    for line in proc.stdout.splitlines():
        if line.startswith("EXIT_AT"):
            exit_seconds = end - float(line.split()[1])
    inner = next((line[6:] for line in proc.stdout.splitlines() if line.startswith("INNER ")), "")
    del wall_start
    return wall, inner, exit_seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--model", default=None, help="params file of the embedded model: split the model load")
    ap.add_argument("--pairs", default="data/raw/snli/snli_1.0_test.jsonl", help="pairs to tokenize (with --model)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--skip-imports", action="store_true")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "stages"),
                                                        os.environ.get("PYTHONPATH", "")])}  # fmt: skip
    result: dict = {"pieces": {}}
    if not args.skip_imports:
        for name, code in PIECES.items():
            runs = [run(code, env) for _ in range(args.repeats + 1)]
            first, rest = runs[0], runs[1:]
            result["pieces"][name] = {
                "first_wall_s": round(first[0], 3),
                "wall_s": round(statistics.median(r[0] for r in rest), 3),
                "wall_s_runs": [round(r[0], 3) for r in rest],
                "inner": rest[-1][1],
                "exit_s": round(statistics.median(r[2] for r in rest), 3),
            }
            print(f"{name}: first {first[0]:.2f} s, then {[round(r[0], 2) for r in rest]} {rest[-1][1]}", flush=True)
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import train"], capture_output=True, text=True, env=env,
            cwd=ROOT,
        )  # fmt: skip
        rows = []
        for line in proc.stderr.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[1].strip().isdigit():
                rows.append((int(parts[1]), parts[2].rstrip()))
        top = sorted(rows, reverse=True)[:25]
        result["importtime_train_top_cumulative_us"] = [[us, name] for us, name in top]
        print("heaviest imports of the train stage (cumulative ms):")
        for us, name in top[:15]:
            print(f"  {us / 1000:8.0f}  {name}")
    if args.model:
        loads = []
        for _ in range(args.repeats):
            wall, inner, exit_s = run(LOAD, env, [args.model, args.pairs])
            loads.append({"wall_s": round(wall, 3), "exit_s": round(exit_s, 3),
                          **({k: round(v, 3) for k, v in json.loads(inner).items()} if inner.startswith("{") else
                             {"error": inner})})  # fmt: skip
            print("load:", loads[-1], flush=True)
        result["model_load"] = loads
    Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
