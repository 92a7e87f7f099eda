"""Outputs as a user expects: symlinks written through, special files written directly, folders refused, and a
folder swap that a kill between its renames cannot lose (the next run restores the old folder)."""

from __future__ import annotations

import os
import stat
import threading

import pytest
import torch
from safetensors.torch import save_file

from nli.core import files
from nli.core.errors import UserError


def test_a_symlinked_output_is_written_through(tmp_path):
    target, link = tmp_path / "real.json", tmp_path / "link.json"
    target.write_text("old")
    link.symlink_to(target)
    files.write_json(link, {"a": 1})
    assert link.is_symlink() and '"a": 1' in target.read_text()


def test_a_named_pipe_output_is_written_directly(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    files.write_text(fifo, "hello\n")
    reader.join(timeout=30)
    assert got == ["hello\n"] and fifo.exists() and not fifo.is_file()


def test_a_folder_given_as_a_file_output_is_one_error(tmp_path):
    with pytest.raises(UserError, match="is a folder"):
        files.write_json(tmp_path, {})
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="is a file"), files.atomic_dir(tmp_path / "file"):
        pass
    with pytest.raises(UserError, match="file is a file, not a folder"):
        files.write_json(tmp_path / "file" / "out.json", {})


@pytest.mark.parametrize("exchange", [True, False])
def test_atomic_dir_replaces_the_old_folder(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(files, "_exchange", lambda a, b: False)
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with files.atomic_dir(out) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and [p.name for p in out.iterdir()] == ["new.txt"]


@pytest.mark.parametrize("old_name", [".out.old", ".out.old.abc123/out"])
def test_a_swap_killed_between_its_renames_is_undone_by_the_next_run(tmp_path, old_name, capsys):
    """The old folder moved aside, the new one not yet in place (this version's and the earlier layout)."""
    stranded = tmp_path / old_name
    stranded.mkdir(parents=True)
    (stranded / "data.txt").write_text("old")
    with pytest.raises(RuntimeError), files.atomic_dir(tmp_path / "out"):
        raise RuntimeError("the next run fails at once")
    assert (tmp_path / "out" / "data.txt").read_text() == "old"
    assert "was restored" in capsys.readouterr().err


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
