#!/usr/bin/env python
"""After `dvc repro`: fail unless the committed dvc.lock outs and metrics are what the reproduction gave.

    python scripts/check_reproduced.py [--rev HEAD]

Prints one line per difference, then one `error:` line; exit 2 when something differs, 0 when all reproduce.
"""

from __future__ import annotations

import argparse
import sys

from nli.review.reproduced import differences
from nli.review.revisions import ReportError


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", default="HEAD", help="the revision whose committed results are checked (default HEAD)")
    ap.add_argument("--metrics-dir", default="metrics")
    args = ap.parse_args()
    try:
        found = differences(args.rev, args.metrics_dir)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in found:
        print(line)
    if found:
        print(
            f"error: this PR's results do not reproduce: {len(found)} committed out(s) or metrics file(s) differ from "
            "`dvc repro` of its code; rerun `dvc repro` and commit dvc.lock and metrics/ (or find what is not "
            "deterministic)",
            file=sys.stderr,
        )
        return 2
    print("the committed dvc.lock outs and metrics reproduce")
    return 0


if __name__ == "__main__":
    sys.exit(main())
