#!/usr/bin/env python3
"""Write params.yaml for a profile: conf/config.yaml (the default recipe) + conf/profile/<name>.yaml + overrides.

    python scripts/compose_params.py --profile smoke                 # switch the workspace to the smoke profile
    python scripts/compose_params.py --profile tiny train.lr=0.01 -o -   # preview on stdout, change nothing

params.yaml is what the pipeline reads and what `dvc exp run -S`, `dvc exp apply` and `dvc exp branch` change;
conf/ is read only here. Overrides use the syntax of `dvc exp run -S` (Hydra's). Errors: one `error:` line, exit 2.
"""

import argparse
import sys
from pathlib import Path

from nli.core import files, profiles
from nli.core.errors import UserError, run_stage

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("overrides", nargs="*", help="overrides, e.g. train.lr=0.001 (profile=NAME works too)")
    ap.add_argument("--profile", help=f"a file of conf/profile/ ({', '.join(profiles.available(ROOT / 'conf'))})")
    ap.add_argument("--conf", default=str(ROOT / "conf"), help="the conf folder (default: this repository's)")
    ap.add_argument("-o", "--output", default="params.yaml", help="where to write; - for stdout")
    args = ap.parse_args()
    text = profiles.dumps(profiles.compose(args.conf, args.profile, args.overrides))
    if args.output == "-":
        sys.stdout.write(text)
        return
    if Path(args.output).is_dir():
        raise UserError(f"-o {args.output} is a folder; give a file path such as params.yaml, or - for stdout")
    files.write_text(args.output, text)
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    run_stage(main)
