"""The study's params files: the committed params.yaml (before the short prompt) with seed, val size and template set.

git show a8425ef:params.yaml > /tmp/params_before.yaml && python make_params.py /tmp/params_before.yaml
"""

import copy
import sys
from pathlib import Path

import yaml

base = yaml.safe_load(Path(sys.argv[1]).read_text())
T = {
    "T0": "Premise: {premise}\nHypothesis: {hypothesis}\n"
    "Does the premise entail the hypothesis? Answer yes, maybe, or no.\nAnswer:",
    "T1": "Premise: {premise}\nHypothesis: {hypothesis}\nAnswer:",
}
assert base["prompt"]["template"] == T["T0"], repr(base["prompt"]["template"])
for seed in range(1, 11):
    for name, tpl in T.items():
        p = copy.deepcopy(base)
        p["seed"] = seed
        p["split"]["val_size"] = 500
        p["prompt"]["template"] = tpl
        Path(f"params_{name}_s{seed}.yaml").write_text(yaml.safe_dump(p, sort_keys=False))
