#!/usr/bin/env python3
"""Share runs through the team's `results` remote (docs/sharing.md): outputs, the run-cache and its outputs.

    python scripts/results_remote.py push     # after `dvc repro`: what a second clone needs to skip every stage
    python scripts/results_remote.py pull     # then `dvc repro` checks out each stage run anywhere, runs none

Plain `dvc push/pull -r results --run-cache` move the run-cache entries but not the git-tracked outputs (metrics,
plots) they name, so another clone reruns those stages; these two commands move those too (nli.review.results).
"""

import argparse

from nli.core.errors import run_stage
from nli.review import results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["push", "pull"])
    ap.add_argument("--remote", default="results", help="the DVC remote to use (default: results)")
    args = ap.parse_args()
    print((results.push if args.action == "push" else results.pull)(".", args.remote))


if __name__ == "__main__":
    run_stage(main)
