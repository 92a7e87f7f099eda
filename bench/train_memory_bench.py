#!/usr/bin/env python3
"""Peak RSS and speed of the train stage under memory variants, with a per-step RSS/heap trace.

    python bench/train_memory_bench.py --name trim-step --out-dir /tmp/mem          # the committed stage
    python bench/train_memory_bench.py --name trim-validation --trim validation     # the stage before
    python bench/train_memory_bench.py --name pad8 --pad-multiple 8                 # bucketed lengths
    python bench/train_memory_bench.py --name input-cast --adapter-input-cast       # PEFT's fp32 input cast
    python bench/train_memory_bench.py --name mm1m --mmap-threshold 1048576        # glibc mmaps blocks >= 1 MiB

Runs `stages/train.py` on params.yaml and the split in data/split (outputs under --out-dir, nothing of the
pipeline's is touched), then prints one table row: peak RSS (GiB, ru_maxrss), seconds per optimizer step
between validations, best validation accuracy, and whether the adapter is byte-identical to models/adapter.
The trace (RSS and glibc heap in use / free after every step) goes to <out-dir>/<name>/trace.jsonl.
Run it alone: on 2 cores anything else running changes the timings.
"""

import argparse
import ctypes
import filecmp
import json
import resource
import runpy
import time
from pathlib import Path

import peft.helpers
import torch.nn.functional as F
import yaml
from transformers import TrainerCallback

from nli.model import scoring
from nli.train import callbacks

LIBC = ctypes.CDLL("libc.so.6")


class MallInfo2(ctypes.Structure):
    FIELDS = ["arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost"]
    _fields_ = [(n, ctypes.c_size_t) for n in FIELDS]


LIBC.mallinfo2.restype = MallInfo2


def padded_collate(multiple: int):
    """``scoring.collate`` with more left padding, up to a multiple: fewer distinct shapes, other bf16 numbers."""
    collate = scoring.collate

    def padded(seqs, pad_id):
        batch = collate(seqs, pad_id)
        extra = -batch["input_ids"].shape[1] % multiple
        return {k: F.pad(v, (extra, 0), value=pad_id if k == "input_ids" else 0) for k, v in batch.items()}

    return padded


class Trace(TrainerCallback):
    def __init__(self, path: Path, trim_substeps: bool):
        self.out, self.trim_substeps, self.step_times = path.open("w"), trim_substeps, {}

    def _log(self, event: str, step: int) -> None:
        heap = LIBC.mallinfo2()
        with open("/proc/self/statm") as f:
            rss = int(f.read().split()[1]) * resource.getpagesize() / 2**30
        row = {"event": event, "step": step, "t": round(time.perf_counter(), 2), "rss_gib": round(rss, 3)}
        row |= {"heap_in_use_gib": round(heap.uordblks / 2**30, 3), "heap_free_gib": round(heap.fordblks / 2**30, 3)}
        self.out.write(json.dumps(row) + "\n")
        self.out.flush()

    def on_step_end(self, args, state, control, **kwargs):
        self.step_times[state.global_step] = time.perf_counter()
        self._log("step", state.global_step)

    def on_substep_end(self, args, state, control, **kwargs):
        if self.trim_substeps:
            LIBC.malloc_trim(0)

    def on_evaluate(self, args, state, control, **kwargs):
        self._log("validation", state.global_step)


def seconds_per_step(times: dict[int, float], eval_steps: int) -> float:
    """Mean step time over stretches without a validation (steps after one include it otherwise)."""
    spans = [(a, a + eval_steps - 2) for a in range(1, max(times), eval_steps) if a + eval_steps - 2 in times]
    steps = sum(b - a for a, b in spans)
    return sum(times[b] - times[a] for a, b in spans) / steps if steps else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", required=True)
    ap.add_argument("--out-dir", default="/tmp/train_memory_bench")
    ap.add_argument("--trim", choices=["step", "substep", "validation"], default="step")
    ap.add_argument("--pad-multiple", type=int, default=1)
    ap.add_argument("--adapter-input-cast", action="store_true", help="the stage before: adapter inputs to fp32")
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--mmap-threshold", type=int, default=0, help="glibc M_MMAP_THRESHOLD in bytes (0: glibc's)")
    args = ap.parse_args()

    if args.mmap_threshold:
        LIBC.mallopt(-3, args.mmap_threshold)  # M_MMAP_THRESHOLD; setting it also stops glibc raising it

    out = Path(args.out_dir) / args.name
    if args.trim == "validation":  # the callback before it trimmed every step
        release = callbacks.ReleaseFreedMemory.on_step_end
        callbacks.ReleaseFreedMemory.on_step_end = lambda self, a, state, control, **kw: (
            release(self, a, state, control, **kw) if control.should_evaluate or control.should_save else None
        )
    if args.adapter_input_cast:  # LabelTokenTrainer.train turns PEFT's cast off under autocast; keep it on
        disable = peft.helpers.disable_input_dtype_casting
        peft.helpers.disable_input_dtype_casting = lambda model, active=True: disable(model, active=False)
    if args.pad_multiple > 1:
        scoring.collate = padded_collate(args.pad_multiple)
    out.mkdir(parents=True, exist_ok=True)
    trace = Trace(out / "trace.jsonl", trim_substeps=args.trim == "substep")
    start = time.perf_counter()
    train = runpy.run_path("stages/train.py", run_name="train_stage")  # the stage script itself
    train["main"](
        ["--params", args.params, "--adapter-dir", str(out / "adapter"), "--metrics", str(out / "train.json")]
        + ["--run-log", str(out / "run.json"), "--live-dir", "", "--checkpoints", str(out / "checkpoints")],
        callbacks=[trace],
    )
    eval_steps = yaml.safe_load(Path(args.params).read_text())["train"]["eval_steps"]
    adapter = out / "adapter/adapter_model.safetensors"
    row = {
        "name": args.name,
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3),
        "stage_seconds": round(time.perf_counter() - start, 1),
        "seconds_per_step": round(seconds_per_step(trace.step_times, eval_steps), 3),
        "best_val_accuracy": json.loads((out / "train.json").read_text())["best_val_accuracy"],
        "adapter_identical": filecmp.cmp(adapter, "models/adapter/adapter_model.safetensors", shallow=False),
    }
    print("| " + " | ".join(row) + " |\n|" + "---|" * len(row) + "\n| " + " | ".join(map(str, row.values())) + " |")
    (out / "summary.json").write_text(json.dumps(row, indent=2) + "\n")


if __name__ == "__main__":
    main()
