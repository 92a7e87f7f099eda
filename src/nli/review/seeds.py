"""Seed variance from ``dvc exp show --json``: group experiments into recipes, summarise each over its seeds.

A *recipe* is every param except the training seed (``train.seed``); experiments that differ only in that seed are
draws of one recipe. Each recipe gets its metric's mean and sample standard deviation over its seeds; two recipes get
a 95% interval for the difference of their means: paired (scipy's ``ttest_rel``) when both ran the same seeds, since
the seed then fixes the LoRA init and batch order on both sides; Welch's (``ttest_ind``, unequal variances) otherwise.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from nli.core.errors import UserError

SEED_PARAM = "train.seed"
LEVEL = 0.95


@dataclass
class Run:
    name: str
    params: dict[str, Any]  # flattened "section.key" -> value
    value: float


@dataclass
class Recipe:
    label: str  # the params that set it apart from the other recipes, e.g. "lora.r=8"
    params: dict[str, Any]
    runs: dict[Any, Run] = field(default_factory=dict)  # seed -> run

    @property
    def values(self) -> np.ndarray:
        return np.array([run.value for _, run in sorted(self.runs.items())], dtype=float)

    def summary(self) -> dict[str, Any]:
        v = self.values
        return {
            "recipe": self.label,
            "seeds": sorted(self.runs),
            "n": len(v),
            "mean": float(v.mean()),
            "sd": float(v.std(ddof=1)) if len(v) > 1 else None,
            "runs": [run.name for _, run in sorted(self.runs.items())],
            "values": [float(x) for x in v],  # one per seed, in the order of "seeds"
        }


def flatten(tree: dict, prefix: str = "") -> dict[str, Any]:
    out = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = json.dumps(value) if isinstance(value, list) else value
    return out


def runs_from_exp_show(rows: list, metric: str, params_file: str = "params.yaml") -> list[Run]:
    """Every experiment (and the baseline commits) in ``dvc exp show --json`` output with ``metric`` set.

    ``metric`` is ``<metrics file>:<key>`` (e.g. ``metrics/finetuned.json:ft_acc``). The workspace row is left
    out: it repeats the checked-out commit's values, or holds an unfinished run.
    """
    if not isinstance(rows, list):
        raise UserError("expected the output of `dvc exp show --json` (a JSON list of revisions)")
    path, _, key = metric.rpartition(":")
    if not path or not key:
        raise UserError(f"--metric {metric!r}: write it as <metrics file>:<key>, e.g. metrics/finetuned.json:ft_acc")

    def entries():
        for row in rows:
            if row.get("rev") != "workspace":
                yield row.get("name") or row.get("rev", "?")[:7], row.get("data") or {}
            for exp in row.get("experiments") or []:
                for rev in exp.get("revs") or []:
                    yield rev.get("name") or rev.get("rev", "?")[:7], rev.get("data") or {}

    runs = []
    for name, data in entries():
        params = ((data.get("params") or {}).get(params_file) or {}).get("data")
        value = (((data.get("metrics") or {}).get(path) or {}).get("data") or {}).get(key)
        if params is None or not isinstance(value, (int, float)) or isinstance(value, bool):
            continue  # failed or queued experiments have no metrics
        runs.append(Run(name, flatten(params), float(value)))
    return runs


def recipes(runs: list[Run], seed_param: str = SEED_PARAM) -> list[Recipe]:
    """Group runs by every param but ``seed_param``; label each by the params that differ between recipes."""
    grouped: dict[str, Recipe] = {}
    for run in runs:
        if seed_param not in run.params:
            raise UserError(f"run {run.name} has no param {seed_param}; is this a repository with training seeds?")
        rest = {k: v for k, v in run.params.items() if k != seed_param}
        key = json.dumps(rest, sort_keys=True, default=str)
        recipe = grouped.setdefault(key, Recipe("", rest))
        seed = run.params[seed_param]
        if seed in recipe.runs:  # the same recipe and seed twice (e.g. a commit and its rerun): keep the first
            continue
        recipe.runs[seed] = run
    out = list(grouped.values())
    differing = sorted({k for r in out for k in r.params if len({str(o.params.get(k)) for o in out}) > 1})
    for r in out:
        r.label = ", ".join(f"{k}={r.params.get(k)}" for k in differing) or "(one recipe)"
    return sorted(out, key=lambda r: r.label)


def difference(a: Recipe, b: Recipe, level: float = LEVEL) -> dict[str, Any]:
    """mean(b) - mean(a) with a ``level`` interval: paired over common seeds when both have the same seeds."""
    if len(a.runs) < 2 or len(b.runs) < 2:
        raise UserError(
            f"an interval needs at least 2 seeds per recipe ({a.label}: {len(a.runs)}, {b.label}: {len(b.runs)})"
        )
    if set(a.runs) == set(b.runs):
        result = stats.ttest_rel(b.values, a.values)
        method = "paired t over the same seeds"
    else:
        result = stats.ttest_ind(b.values, a.values, equal_var=False)
        method = "Welch t (different seeds)"
    ci = result.confidence_interval(confidence_level=level)
    return {
        "a": a.label,
        "b": b.label,
        "difference": float(b.values.mean() - a.values.mean()),
        "ci95": [float(ci.low), float(ci.high)],
        "p": float(result.pvalue) if math.isfinite(result.pvalue) else None,
        "method": method,
    }
