"""Resuming skips checkpoints a kill cut short: the newest complete one is used, the partial ones are removed."""

from __future__ import annotations

import json

import torch
from safetensors.torch import save_file

from nli.train import training


def checkpoint(run_dir, step: int, state: str | None = "{}", weights: bool = True, cut: bool = False):
    folder = run_dir / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    if weights:
        save_file({"lora_A.weight": torch.ones(2, 4)}, folder / "adapter_model.safetensors")
        if cut:
            data = (folder / "adapter_model.safetensors").read_bytes()
            (folder / "adapter_model.safetensors").write_bytes(data[:-8])
    if state is not None:
        (folder / "trainer_state.json").write_text(state)
    return folder


def test_the_newest_complete_checkpoint_is_resumed_and_partial_ones_removed(tmp_path, capsys):
    complete = checkpoint(tmp_path, 4, json.dumps({"global_step": 4}))
    checkpoint(tmp_path, 2)
    no_state = checkpoint(tmp_path, 6, state=None)  # killed before the Trainer wrote its state
    cut_state = checkpoint(tmp_path, 8, state='{"global_st')  # killed while writing it
    cut_weights = checkpoint(tmp_path, 10, cut=True)  # weights truncated
    assert training.last_checkpoint(tmp_path) == str(complete)
    assert not no_state.exists() and not cut_state.exists() and not cut_weights.exists()
    err = capsys.readouterr().err
    assert all(f"checkpoint-{n} is incomplete" in err for n in (6, 8, 10)), err


def test_no_complete_checkpoint_starts_afresh(tmp_path):
    checkpoint(tmp_path, 2, state=None)
    assert training.last_checkpoint(tmp_path) is None
    assert training.last_checkpoint(tmp_path / "missing") is None
