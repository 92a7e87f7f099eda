#!/usr/bin/env python3
"""The train stage on 1 GPU and on N GPUs through its own `train.gpus` path, same per-GPU batch: ex/s scaling.

    python bench/ddp_scaling.py --params PARAMS.yaml --gpus 2 --out OUT.json [--steps 40 --warmup 5 --repeats 3]

For each GPU count the stage runs under torch.distributed.run (also for 1 GPU, so both sides pay the same
launcher), with train.batch_size = per-GPU batch x GPUs (train.batch_size is one optimizer step's batch, shared
among the GPUs) and the given max_steps. A callback in every process times the optimizer steps after the first
`warmup` ones, so start-up, the final validation and the adapter save stay out of the rate. With --repeats R the
1-GPU and N-GPU runs alternate R times (1, N, 1, N, ...); the speedup is the median of the R rounds' ratios, each
round's ratio printed. Needs a split already written (stages/split.py) under data/split.
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

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "stages")]


def child(args) -> None:
    """Inside torchrun: run the real train stage with a step timer."""
    import torch
    import train as train_stage

    def sync():
        if torch.cuda.is_available():
            torch.cuda.synchronize()

    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.start, self.steps = None, 0

        def on_step_end(self, a, state, control, **kw):
            if state.global_step == args.warmup:
                sync()
                self.start = time.perf_counter()
            elif state.global_step > args.warmup:
                self.steps += 1
                if state.global_step == state.max_steps:
                    sync()
                    self.seconds = time.perf_counter() - self.start

    timer = StepTimer()
    train_stage.main(args.stage_argv, callbacks=[timer])
    if int(os.environ.get("RANK", 0)) == 0:
        Path(args.timing).write_text(json.dumps({"timed_steps": timer.steps, "seconds": timer.seconds}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", required=True, help="composed params; its train.batch_size is the per-GPU batch")
    ap.add_argument("--gpus", type=int, default=2)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=1, help="interleaved rounds of 1 and N GPUs")
    ap.add_argument("--out")
    ap.add_argument("--work", default="/tmp/ddp_scaling")
    ap.add_argument("--split", default="data/split", help="train.jsonl and val.jsonl from stages/split.py")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--timing", help=argparse.SUPPRESS)
    ap.add_argument("stage_argv", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    if not args.out:
        ap.error("--out is required")
    from nli.train import launch

    base = yaml.safe_load(Path(args.params).read_text())
    per_gpu = base["train"]["batch_size"]
    rows, rounds = [], []
    for rnd, n in [(r, n) for r in range(args.repeats) for n in (1, args.gpus)]:
        work = Path(args.work) / f"r{rnd}-g{n}"
        work.mkdir(parents=True, exist_ok=True)
        params = dict(base)
        params["train"] = {
            **base["train"],
            "batch_size": per_gpu * n,
            "gpus": n,
            "max_steps": args.steps,
            "eval_steps": args.steps,
        }
        (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        stage = ["--params", str(work / "params.yaml"), "--train", f"{args.split}/train.jsonl",
                 "--val", f"{args.split}/val.jsonl", "--adapter-dir", str(work / "adapter"),
                 "--metrics", str(work / "train.json"), "--run-log", str(work / "run.json"),
                 "--live-dir", "", "--checkpoints", str(work / "ckpt")]  # fmt: skip
        cmd = launch.torchrun_command(
            n,
            __file__,
            [
                "--params",
                args.params,
                "--warmup",
                str(args.warmup),
                "--timing",
                str(work / "t.json"),
                "--child",
                "--",
                *stage,
            ],  # fmt: skip
        )
        start = time.perf_counter()
        code = subprocess.run(cmd, cwd=ROOT).returncode
        t = json.loads((work / "t.json").read_text()) if (work / "t.json").exists() else {}
        run = json.loads((work / "run.json").read_text()) if (work / "run.json").exists() else {}
        rate = t["timed_steps"] * per_gpu * n / t["seconds"] if t else None
        rows.append({"round": rnd, "exit_code": code, "gpus": n, "batch_per_gpu": per_gpu, "global_batch": per_gpu * n,
                     "timed_steps": t.get("timed_steps"), "timed_seconds": t.get("seconds"),
                     "examples_per_second": rate, "wall_seconds": round(time.perf_counter() - start, 1),
                     "stage_run_log": run})  # fmt: skip
        print(f"round {rnd}: {n} GPU(s): exit {code}, {rate and round(rate, 1)} ex/s over {t.get('timed_steps')} steps",
              flush=True)  # fmt: skip
        if n == args.gpus and rows[-2]["examples_per_second"] and rate:
            rounds.append(round(rate / rows[-2]["examples_per_second"], 3))
            print(f"round {rnd}: speedup {rounds[-1]}", flush=True)
    import torch

    card = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    result = {
        "gpu": card,
        "params": base,
        "rows": rows,
        "speedup": statistics.median(rounds) if len(rounds) == args.repeats else None,
        "speedup_rounds": rounds,
    }
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(f"speedup {args.gpus} GPUs / 1 (median of {len(rounds)} interleaved rounds): {result['speedup']} {rounds}")


if __name__ == "__main__":
    main()
