#!/usr/bin/env python3
"""Run dvc.yaml's stage commands in order without DVC (a bare GPU box, a container).

    python scripts/run_stages.py [--no-live] [stage ...]   # default: every stage, in dvc.yaml order

It runs exactly the `cmd` of each stage, with `python` bound to this interpreter; nothing is
cached or locked, so use `dvc repro` wherever DVC is installed. --no-live skips dvclive logging
(for machines without it).
"""

import shlex
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    args = sys.argv[1:]
    no_live = "--no-live" in args
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    wanted = [a for a in args if a != "--no-live"] or list(stages)
    unknown = set(wanted) - set(stages)
    if unknown:  # a refusal is exit 2, as in every other script here
        print(
            f"error: unknown stage(s) {', '.join(sorted(unknown))}; dvc.yaml has {', '.join(stages)}", file=sys.stderr
        )
        sys.exit(2)
    for name in wanted:
        argv = shlex.split(stages[name]["cmd"])
        argv[0] = sys.executable if argv[0] == "python" else argv[0]
        if no_live and "--live-dir" in argv:
            argv += ["--live-dir", ""]
        start = time.perf_counter()
        print(f"== {name}", flush=True)
        code = subprocess.run(argv, cwd=ROOT).returncode
        if code:  # the stage printed its own error line; pass its status on (2: the user's input)
            print(f"stage {name} failed (exit {code})", file=sys.stderr)
            sys.exit(code if code > 0 else 1)
        print(f"== {name} done in {time.perf_counter() - start:.1f}s", flush=True)
