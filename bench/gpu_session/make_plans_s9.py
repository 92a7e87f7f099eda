#!/usr/bin/env python3
"""Session 9's plans for bench/pipeline_runs.py (issue 27's 85%): cross-fit members for logit ensembles, and a
learning curve.

    python3 bench/gpu_session/make_plans_s9.py      # plan_blocks_s9.json, plan_curve_s9.json,
                                                    # plan_curve_steps_s9.json, base_full_s9.yaml

Why: seven sessions of params levers (about 37 recipes, DoRA the latest) moved validation within one seed's spread,
and souping adapters (weights averaged) reached 84.64% on test at best. Two questions are left:
1. **Do logit ensembles of the cross-fit members gain what soups did not?** `plan_blocks_s9.json` trains the
   committed recipe (`conf/profile/embedded-full`) on validation blocks 0-4 x training seeds 1-3 (split + train);
   `ensembles_s9.py` then scores every member and every soup, and averages the members' log-probabilities.
   Distillation from such an ensemble (the other untried method) trains one model towards the ensemble's
   predictions; a student seldom passes its teacher on the teacher's own distribution, so the ensemble's test
   accuracy bounds what distillation could reach here, and tells whether writing it is worth a session.
2. **How much would more data give?** `plan_curve_s9.json` trains the same recipe on a quarter, half and three
   quarters of the 9,342 training pairs (training seeds 1-3, every stage through evaluate_finetuned, validation
   every eighth of the run as in the recipe). With the full size's three seeds (block 0 of the first plan, whose
   test accuracy `ensembles_s9.py` scores), test accuracy against log2(pairs) says how many pairs 85% needs.
   Added after that curve came back: at a fixed number of epochs a smaller set also trains fewer steps, which
   confounds the two, so `plan_curve_steps_s9.json` trains a half and three quarters of the pairs for the full
   run's 148 steps (`train.max_steps`), the other things equal; the slope is read from those.

Written before the runs, the rule (`ensembles_s9.py` applies it):
1. The logit ensemble of a block's three seeds, scored on that block's 500 validation pairs, minus its members'
   validation accuracy (each the same checkpoint, scored the same way), paired over blocks 0-4: ensembling is
   adopted as a method only if the 95% t interval lies above 0 (the rule session 5's soups were held to).
2. Test accuracy is reported either way and never used to choose: each member, each block's soup and logit
   ensemble, the cross-fit ensembles (one training seed, blocks 0-4: five members that together saw the whole pool;
   the issue's "mean of 3 seeds" is the mean of the three), and all fifteen.
"""

import json
import math

from plan_base import HERE, TRAIN_PAIRS, eval_every, write_base

BASE = "bench/gpu_session/base_full_s9.yaml"
BLOCKS = range(5)
SEEDS = (1, 2, 3)
CURVE = (2335, 4671, 7006)  # a quarter, half and three quarters of TRAIN_PAIRS
SLOTS = ["0"] * 3  # one H200: at most three batch-256 training processes a GPU (docs/gpu.md)


def write(name: str, phases: list[dict]) -> None:
    (HERE / name).write_text(json.dumps({"base": BASE, "phases": phases}, indent=1) + "\n")


def main() -> None:
    base = write_base("base_full_s9.yaml")
    train = base["train"]
    assert train["batch_size"] == 256 and not base["lora"]["use_dora"], "not the committed recipe"
    assert eval_every(train["batch_size"], train["epochs"]) == train["eval_steps"], "recipe moved"
    blocks = {f"ctl-b{b}-s{s}": {"split.val_block": b, "train.seed": s} for b in BLOCKS for s in SEEDS}
    write("plan_blocks_s9.json", [{"name": "blocks", "slots": SLOTS, "stages": ["split", "train"], "runs": blocks}])
    curve = {
        f"n{n}-s{s}": {
            "split.train_size": n,
            "train.seed": s,
            "train.eval_steps": eval_every(train["batch_size"], train["epochs"], n),
        }
        for n in CURVE
        for s in SEEDS
    }
    stages = ["split", "train", "evaluate_finetuned"]
    write("plan_curve_s9.json", [{"name": "curve", "slots": SLOTS, "stages": stages, "runs": curve}])
    steps = math.ceil(TRAIN_PAIRS / train["batch_size"]) * train["epochs"]  # the full run's optimizer steps
    matched = {
        f"n{n}-steps{steps}-s{s}": {"split.train_size": n, "train.seed": s, "train.max_steps": steps}
        for n in CURVE[1:]
        for s in SEEDS
    }
    write("plan_curve_steps_s9.json", [{"name": "curvesteps", "slots": SLOTS, "stages": stages, "runs": matched}])


if __name__ == "__main__":
    main()
