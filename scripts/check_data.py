#!/usr/bin/env python3
"""Stop early, in one line, when the raw data can't be pulled (`make repro` runs this before and after `dvc pull`).

    python scripts/check_data.py                 # before the pull: is the data remote reachable?
    python scripts/check_data.py --pulled        # after it: is the data in the workspace?

The error names the remote's URL and the three fixes (nli.data.remote); exit code 2.
"""

import argparse
from pathlib import Path

import yaml

from nli.core.errors import UserError, run_stage
from nli.data import remote


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--data", default="data/raw/snli.dvc", help="the .dvc file of the raw data")
    ap.add_argument("--pulled", action="store_true", help="after `dvc pull`: the data must be in the workspace")
    args = ap.parse_args()
    try:
        params = yaml.safe_load(Path(args.params).read_text(encoding="utf-8")) or {}
        source = params.get("data", {}).get("source", "dvc")
    except (OSError, yaml.YAMLError, AttributeError):
        raise UserError(f"{args.params}: unreadable; run from the repository root or pass --params") from None
    print(f"data: {remote.check('.', args.data, source, pulled=args.pulled)}")


if __name__ == "__main__":
    run_stage(main)
