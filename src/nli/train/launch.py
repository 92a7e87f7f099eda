"""Several GPUs of one host for the train stage: relaunch the same command under torch's own launcher.

With ``train.gpus: N`` (N > 1) the stage, started plainly (``python stages/train.py ...``, as ``dvc repro`` does),
re-runs itself as ``python -m torch.distributed.run --standalone --nproc-per-node N stages/train.py ...`` and
exits with the launcher's status. torchrun starts one process per GPU, sets RANK / LOCAL_RANK / WORLD_SIZE, and
Trainer then runs DistributedDataParallel (each process loads onto its LOCAL_RANK GPU, only rank 0 writes). A
process that torchrun started already has WORLD_SIZE set and does not relaunch. Across several hosts, start
torchrun on each host yourself with a rendezvous endpoint (docs/gpu.md).
"""

from __future__ import annotations

import os
import subprocess
import sys

from nli.core.errors import UserError


def under_launcher(env=None) -> bool:
    """True inside a process that torchrun (or accelerate, or another launcher) started."""
    return "WORLD_SIZE" in (os.environ if env is None else env)


def torchrun_command(nproc: int, script: str, argv: list[str], python: str | None = None) -> list[str]:
    """The command that runs ``script argv`` on ``nproc`` processes of this host through torch.distributed.run.

    ``--standalone``: a local rendezvous on a free port, so two runs on one host never collide."""
    return [
        python or sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={nproc}",
        script,
        *argv,
    ]


def check_gpus(gpus: int, device: str, visible: int) -> None:
    if device != "cuda":
        raise UserError(f"params.yaml: train.gpus = {gpus} needs CUDA GPUs, but the model runs on {device}; set 1")
    if gpus > visible:
        raise UserError(
            f"params.yaml: train.gpus = {gpus} but {visible} GPU(s) are visible here; set train.gpus <= {visible}"
        )


def relaunch(gpus: int, device: str, script: str, argv: list[str]) -> int | None:
    """Run ``script argv`` under torchrun on ``gpus`` GPUs and return its exit status; None when this process
    should train itself (one GPU, or already started by a launcher)."""
    if gpus <= 1 or under_launcher():
        return None
    import torch

    check_gpus(gpus, device, torch.cuda.device_count() if device == "cuda" else 0)
    print(f"train.gpus = {gpus}: relaunching under torch.distributed.run", flush=True)
    return subprocess.run(torchrun_command(gpus, script, argv)).returncode
