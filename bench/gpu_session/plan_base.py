"""What the sessions' plan scripts (make_plans_s2.py, make_plans_s3.py) share: the composed `profile=embedded-full`
base on one GPU, and a validation interval that gives about eight validations a run."""

import math
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TRAIN_PAIRS = 9342  # the offline pool (9,842 after dedup) minus 500 for validation


def eval_every(batch: int, epochs: float, pairs: int = TRAIN_PAIRS) -> int:
    return math.ceil(math.ceil(pairs / batch) * epochs / 8)  # about eight validations a run


def write_base(name: str) -> dict:
    """params.yaml of `profile=embedded-full` with `train.gpus: 1`, written to bench/gpu_session/<name>; returned."""
    out = HERE / name
    subprocess.run(
        [sys.executable, str(ROOT / "scripts/compose_params.py"), "profile=embedded-full", "-o", str(out)], check=True
    )
    base = yaml.safe_load(out.read_text())
    base["train"]["gpus"] = 1
    out.write_text(yaml.safe_dump(base, sort_keys=False))
    return base
