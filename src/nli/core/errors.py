"""One error type for everything a user can fix, and the wrapper every stage runs under.

A stage raises :class:`UserError` with a message that says *what* is wrong (file, line, field or
param) and *how to fix it*; :func:`run_stage` prints it as one line and exits with status 2, so a
user never has to read a traceback for a problem in their own input.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable


class UserError(Exception):
    """A problem in the user's input, params or environment that they can fix."""


def run_stage(main: Callable[[], None]) -> None:
    """Run a stage's ``main``; turn a :class:`UserError` into ``error: ...`` and exit code 2."""
    try:
        main()
    except UserError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        sys.exit(2)
    except OSError as exc:  # a full disk anywhere (checkpoints, caches): still one line, not a traceback
        if exc.errno not in DISK_ERRNOS:
            raise
        print(f"error: {disk_error(exc, exc.filename)}", file=sys.stderr)
        sys.exit(2)


DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)


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
