#!/usr/bin/env python3
"""Compose conf/ into a params file the way `dvc exp run` does (Hydra), without running anything.

    python scripts/compose_params.py profile=embedded-full train.lr=0.001 -o params.yaml

Useful to preview a profile, or to switch profiles for plain `dvc repro` on a machine where
you don't want an experiment. Overrides use Hydra syntax, exactly like `dvc exp run -S`.
"""

import argparse
from pathlib import Path

from dvc.utils.hydra import compose_and_dump

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. profile=tiny train.lr=0.001")
    ap.add_argument("-o", "--output", default="params.yaml")
    args = ap.parse_args()
    compose_and_dump(Path(args.output), str(ROOT / "conf"), None, "config", str(ROOT), args.overrides)
    print(f"wrote {args.output}")
