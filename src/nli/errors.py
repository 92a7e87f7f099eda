"""One error type for everything a user can fix, and the wrapper every stage runs under.

A stage raises :class:`UserError` with a message that says *what* is wrong (file, line, field or
param) and *how to fix it*; :func:`run_stage` prints it as one line and exits with status 2, so a
user never has to read a traceback for a problem in their own input.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


class UserError(Exception):
    """A problem in the user's input, params or environment that they can fix."""


def run_stage(main: Callable[[], None]) -> None:
    """Run a stage's ``main``; turn a :class:`UserError` into ``error: ...`` and exit code 2."""
    try:
        main()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
