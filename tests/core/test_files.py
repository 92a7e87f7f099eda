"""Folders written atomically get the modes a plain write would give, whatever their writers chose."""

from __future__ import annotations

import os
import stat

import torch
from safetensors.torch import save_file

from nli.core import files


def test_atomic_dir_leaves_every_file_readable_by_others(tmp_path):
    mask = os.umask(0o022)
    try:
        with files.atomic_dir(tmp_path / "model") as tmp:
            save_file({"w": torch.zeros(2)}, str(tmp / "model.safetensors"))  # safetensors creates it 0600
            (tmp / "sub").mkdir(mode=0o700)
            (tmp / "sub" / "run.sh").write_text("#!/bin/sh\n")
            os.chmod(tmp / "sub" / "run.sh", 0o700)
    finally:
        os.umask(mask)
    mode = {p.relative_to(tmp_path).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in tmp_path.rglob("*")}
    assert mode == {
        "model": 0o755,
        "model/model.safetensors": 0o644,
        "model/sub": 0o755,
        "model/sub/run.sh": 0o755,  # executables stay executable
    }
