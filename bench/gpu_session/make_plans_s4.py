#!/usr/bin/env python3
"""Write the plans of the fourth GPU session (bench/gpu_session/*_s4.*) for bench/pipeline_runs.py.

Issue 27 after session 3: no params lever moved mean validation above the committed recipe's, so this session
weighs levers that change what the adapter learns from or what is kept, each on validation:
- `swap`: `train.swap_contradictions: true` (every contradiction pair also read backwards);
- the soup of several training seeds' adapters (bench/adapter_soup.py, run by soups_s4.py on the adapters the
  runs below leave behind): mean validation of the soups against the mean of their members';
- `no4bit`: the same recipe on bf16 weights without NF4 rounding, to measure what the 4-bit base costs (not a
  candidate: the product is QLoRA).

`plan_a_s4.json`, phase `levers`, every stage (so that a winner's test figures exist without training again; the
test split is never used for a choice): the committed recipe ("ctl") over training seeds 1-3, `swap` over seeds 1-3,
`no4bit` over seeds 1-2; four runs per GPU. Phase `seeds` (split + train): the committed recipe over seeds 4-9,
members of the soups. `plan_alone_s4.json`: the committed recipe, seed 1, every stage, alone on GPU 0 with nothing
else on the machine (issue 25's pipeline time).
"""

import json

from plan_base import HERE, write_base

BASE = "bench/gpu_session/base_full_s4.yaml"


def main() -> None:
    base = write_base("base_full_s4.yaml")
    assert base["train"]["swap_contradictions"] is False and base["train"]["lr"] == 0.0016, "not the committed recipe"
    levers = {
        "ctl": {},
        "swap": {"train.swap_contradictions": True},
        "no4bit": {"model.quantization.load_in_4bit": False},
    }
    pins = {  # four per GPU
        "0": [("ctl", 1), ("ctl", 2), ("swap", 1), ("no4bit", 1)],
        "1": [("ctl", 3), ("swap", 2), ("swap", 3), ("no4bit", 2)],
    }
    runs = {
        f"{lever}-s{seed}": {**levers[lever], "train.seed": seed, "_slot": slot}
        for slot, items in pins.items()
        for lever, seed in items
    }
    plan = {
        "base": BASE,
        "phases": [
            {"name": "levers", "slots": ["0"] * 4 + ["1"] * 4, "runs": runs},
            {
                "name": "seeds",
                "slots": ["0"] * 3 + ["1"] * 3,
                "stages": ["split", "train"],
                "runs": {f"ctl-s{s}": {"train.seed": s} for s in range(4, 10)},
            },
        ],
    }
    (HERE / "plan_a_s4.json").write_text(json.dumps(plan, indent=1) + "\n")
    alone = {"base": BASE, "phases": [{"name": "alone", "slots": ["0"], "runs": {"ctl-s1": {"train.seed": 1}}}]}
    (HERE / "plan_alone_s4.json").write_text(json.dumps(alone, indent=1) + "\n")


if __name__ == "__main__":
    main()
