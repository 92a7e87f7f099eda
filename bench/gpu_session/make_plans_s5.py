#!/usr/bin/env python3
"""Write the plan of the fifth GPU session (bench/gpu_session/plan_blocks_s5.json) for bench/pipeline_runs.py.

Issue 27 after session 4: three-seed soups of the committed recipe scored 84.36% on test against single seeds'
83.86%, but one 500-pair validation set (standard error ~1.7 points) could not tell them apart, and choices are made
on validation only. This plan validates the soup on five disjoint validation blocks (`split.val_block` 0-4, 2,500
pairs in all; every block trains on 9,340 pairs): the committed recipe over training seeds 1-3 on each block (split +
train, 15 runs, four per GPU). soups_s5.py then souped each block's three adapters, scores the soup on that block's
validation set (and on test, reported only), and pairs soup against members block by block.

Issue 25, after the step bench put a 1.3x on SDPA's cuDNN backend: plan_alone_s5.json (the committed recipe, seed 1,
every stage, one GPU, for the interleaved before/after pipeline runs alone on the machine) and plan_seeds_s5.json
(seeds 1-3, every stage, with the change: the test figures under the new attention kernel).
"""

import json

from plan_base import HERE, write_base

BASE = "bench/gpu_session/base_full_s5.yaml"
BLOCKS = range(5)
SEEDS = (1, 2, 3)


def main() -> None:
    base = write_base("base_full_s5.yaml")
    assert base["split"]["val_size"] == 500 and base["split"]["val_block"] == 0, "not the committed recipe"
    runs = {f"ctl-b{b}-s{s}": {"split.val_block": b, "train.seed": s} for b in BLOCKS for s in SEEDS}
    plan = {
        "base": BASE,
        "phases": [{"name": "blocks", "slots": ["0"] * 4 + ["1"] * 4, "stages": ["split", "train"], "runs": runs}],
    }
    (HERE / "plan_blocks_s5.json").write_text(json.dumps(plan, indent=1) + "\n")
    alone = {"base": BASE, "phases": [{"name": "alone", "slots": ["0"], "runs": {"ctl-s1": {"train.seed": 1}}}]}
    (HERE / "plan_alone_s5.json").write_text(json.dumps(alone, indent=1) + "\n")
    seeds = {"name": "seeds", "slots": ["0", "1", "0"], "runs": {f"ctl-s{s}": {"train.seed": s} for s in SEEDS}}
    (HERE / "plan_seeds_s5.json").write_text(json.dumps({"base": BASE, "phases": [seeds]}, indent=1) + "\n")


if __name__ == "__main__":
    main()
