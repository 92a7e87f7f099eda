#!/usr/bin/env python
"""Write a Markdown review comment for a change, leading with the quality metrics it changed.

Usage (from the repo root):
    python scripts/pr_report.py --base origin/main --out reports/pr.md [--plots-dir reports/pr_plots]

The report itself is built by nli.review.report. Exit codes: 0 on success, 2 on any DVC/git/IO error (one line).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nli.core import files
from nli.review.report import build_report
from nli.review.revisions import ReportError, git_rev_exists, run_command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="git revision to compare against (default: origin/main, else main)")
    parser.add_argument("--out", type=Path, default=Path("reports/pr.md"), help="markdown output file")
    parser.add_argument("--plots-dir", type=Path, help="also render `dvc plots diff` (offline HTML) here")
    args = parser.parse_args(argv)
    try:
        base = args.base or ("origin/main" if git_rev_exists("origin/main") else "main")
        run_command([sys.executable, "-m", "dvc", "root"], "dvc root")
        if not git_rev_exists(base):
            raise ReportError(f"unknown base revision {base!r} (try `git fetch` or pass --base)")
        files.write_text(args.out, build_report(base, args.plots_dir))
    except (ReportError, OSError) as exc:
        print(f"pr_report: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
