"""One error type for everything a user can fix, and the wrapper every stage runs under.

A stage raises :class:`UserError` with a message that says *what* is wrong (file, line, field or
param) and *how to fix it*; :func:`run_stage` prints it as one line and exits with status 2, so a
user never has to read a traceback for a problem in their own input.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Callable


class UserError(Exception):
    """A problem in the user's input, params or environment that they can fix."""


def run_stage(main: Callable[[], None]) -> None:
    """Run a stage's ``main``; turn a :class:`UserError` into ``error: ...`` and exit code 2."""
    try:
        main()
        sys.stdout.flush()  # a reader that went away shows here, not at interpreter exit
    except UserError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:
        # the reader of standard output went away (`predict | head -1`): stop quietly, as `cat` does; Python
        # would otherwise report the flush of the closed pipe again at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(128 + 13)  # what a shell reports for a writer stopped by SIGPIPE
    except OSError as exc:  # a full disk, a folder where a file belongs: still one line naming the path
        if exc.filename is None and exc.errno not in DISK_ERRNOS:
            raise
        print(f"error: {os_error(exc)}", file=sys.stderr)
        sys.exit(2)


DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)
PATH_FIXES = {
    errno.EISDIR: "it is a folder; give a file path",
    errno.ENOTDIR: "a part of that path is a file, not a folder; fix the path",
    errno.ENOENT: "it does not exist; check the path",
    errno.EEXIST: "something else is already there; remove it or choose another path",
}


def os_error(exc: OSError, path=None, kept: bool = False) -> UserError:
    """Any failed file operation as one user error naming the path (disk full, permissions, folder for file)."""
    from pathlib import Path

    path = path if path is not None else exc.filename
    if exc.errno in (errno.EEXIST, errno.ENOTDIR) and path is not None:
        blocking = next((p for p in Path(path).parents if p.is_file()), None)
        if blocking is not None:  # mkdir of the output's folder met a file on the way
            return UserError(f"{path}: {blocking} is a file, not a folder; fix the path or move that file")
    if exc.errno in DISK_ERRNOS or exc.errno not in PATH_FIXES:
        return disk_error(exc, path, kept)
    return UserError(f"{path}: {exc.strerror or type(exc).__name__}; {PATH_FIXES[exc.errno]}")


class ArgumentParser(argparse.ArgumentParser):
    """argparse with the house's error format: one ``error:`` line naming the flag, exit 2 (usage goes to -h)."""

    def error(self, message: str):
        self.exit(2, f"error: {message}; see {self.prog} --help\n")


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1 (a batch size, a count)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer; give a whole number >= 1") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is below 1; give a whole number >= 1")
    return value


def fraction(text: str) -> float:
    """An argparse type: a finite number in [0, 1] (``nan`` compares false with everything, so it is refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; give a fraction between 0 and 1") from None
    if not 0 <= value <= 1:  # also false for nan
        raise argparse.ArgumentTypeError(f"{text} is not in [0, 1]; give a fraction such as 0.995")
    return value


def disk_error(exc: OSError, path, kept: bool = False) -> UserError:
    """A write that failed for lack of space or permission, as a user error naming the output."""
    fixes = {
        errno.ENOSPC: "free some disk space (or point the output elsewhere) and rerun",
        errno.EDQUOT: "free some of your disk quota and rerun",
        errno.EROFS: "the file system is read-only; write the output elsewhere",
    }
    fix = fixes.get(exc.errno, "check the folder's permissions or write the output elsewhere")
    where = f" writing {path}" if path else ""
    return UserError(f"{exc.strerror}{where}; {fix}" + (". The previous output, if any, is unchanged" if kept else ""))
