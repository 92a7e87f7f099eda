"""Atomic writes: nothing half-written survives a crash, and the old file or folder stays until the new is whole.

A full disk (or a read-only or forbidden place) while writing becomes one clear :class:`UserError`
naming the output, and the previous version of the output is left as it was.

Where an output already is something else, it is treated as a user expects: a symlink is written through (its
target is replaced atomically, the link stays), a special file (``/dev/stdout``, a named pipe) is written to
directly, and a folder where a file belongs (or a file where a folder belongs) is one error naming it.

A folder is swapped in with one ``renameat2(RENAME_EXCHANGE)`` call where the kernel and file system have it,
so the path holds the old or the new folder at every instant, ``kill -9`` included. Elsewhere the old folder is
moved aside first; if the process dies between the two renames, the next ``atomic_dir`` of the same path puts
the old folder back before doing anything else (:func:`recover_dir`).
"""

from __future__ import annotations

import errno
import glob
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from nli.core.errors import UserError, os_error


def _file_target(path: Path) -> Path:
    """Where a file output really goes: a symlink's target (the link stays a link); a folder is an error."""
    if _special(path):  # /dev/stdout links to /proc/self/fd/1, whose target is no path: open it as given
        return path
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    if path.is_dir():
        raise UserError(f"{path} is a folder; give a file path for this output (e.g. {path}/out)")
    return path


def check_output_file(path: str | os.PathLike) -> None:
    """Fail early (before the work) if a file output can't go where it was asked to."""
    _file_target(Path(path))


def _special(path: Path) -> bool:
    """An existing file that is not a regular file (a device such as /dev/stdout, a named pipe, a socket)."""
    return path.exists() and not path.is_file() and not path.is_dir()


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds.

    A symlink is written through to its target; a special file is yielded itself and written in place."""
    path = _file_target(Path(path))
    if _special(path):
        yield path
        return
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
        os.replace(tmp, path)
    except OSError as exc:
        raise os_error(exc, path, kept=True) from None
    finally:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open ``path`` for writing atomically (``-`` is standard output, written as it comes)."""
    if str(path) == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    with atomic_path(path) as tmp, open(tmp, mode, encoding=None if "b" in mode else encoding) as f:
        yield f


def write_json(path: str | os.PathLike, obj: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write text (UTF-8, newlines as given) atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="")


def write_jsonl(path: str | os.PathLike, rows: list[dict]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


@contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; on success it replaces ``path`` whole."""
    import shutil

    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))  # a link to a folder: swap the folder it points at
    if path.exists() and not path.is_dir():
        raise UserError(f"{path} is a file, but this output is a folder; remove the file or choose another path")
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        recover_dir(path)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        yield tmp
        _normal_permissions(tmp)
        _swap_in(tmp, path)
    except OSError as exc:
        raise os_error(exc, path, kept=True) from None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)  # after an exchange: the old folder


def _old_name(path: Path) -> Path:
    return path.parent / f".{path.name}.old"


def _swap_in(new: Path, path: Path) -> None:
    """Put folder ``new`` at ``path``; the old folder (if any) ends up at ``new``, to be deleted."""
    if not path.exists():
        os.replace(new, path)
        return
    if _exchange(new, path):
        return
    old = _old_name(path)  # no atomic exchange here: move the old folder aside, under a name recover_dir knows
    os.replace(path, old)
    os.replace(new, path)
    os.replace(old, new)


def recover_dir(path: Path) -> None:
    """Undo a swap that was killed between its two renames: the old folder moves back to ``path``."""
    import shutil

    old = _old_name(path)
    if not path.exists() and not old.is_dir():  # the layout of earlier versions: .<name>.old.<random>/<name>
        legacy = sorted(path.parent.glob(f".{glob.escape(path.name)}.old.*/{glob.escape(path.name)}"))
        old = legacy[-1] if legacy else old
    if old.is_dir():
        if path.exists():
            shutil.rmtree(old, ignore_errors=True)  # the new one was already in place
        else:
            os.replace(old, path)
            print(f"warning: {path} was restored from {old.name} (a previous run stopped mid-write)", file=sys.stderr)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux's ``renameat2(..., RENAME_EXCHANGE)``; False where unsupported."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):  # the kernel or file system can't exchange
        return False
    raise OSError(err, os.strerror(err), str(b))


def write_run_log(path: str | os.PathLike, info: dict | None = None, cost: dict | None = None) -> None:
    """``runs/<stage>.json``: run info (strings: model, device, ...) and cost (numbers: seconds, memory).

    Not DVC metrics: cost changes on every run, while the quality metrics must not."""
    write_json(path, {"info": info or {}, "cost": cost or {}})


def _normal_permissions(folder: Path) -> None:
    """Give a folder made by mkdtemp (0700) and everything in it the modes a plain write would have (umask applied):
    some writers (safetensors) create their files 0600, and a shared model or output must be readable by others."""
    mask = _umask()
    os.chmod(folder, 0o777 & ~mask)
    for root, dirs, names in os.walk(folder):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o777 & ~mask)
        for name in names:
            path = os.path.join(root, name)
            executable = os.stat(path).st_mode & 0o111
            os.chmod(path, (0o777 if executable else 0o666) & ~mask)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
