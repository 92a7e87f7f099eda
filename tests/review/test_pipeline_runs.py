"""bench/pipeline_runs.py's choices, which pick the GPU sessions' recipes: by validation accuracy only (the test split
is never used for a choice), a recipe by the mean over its seeds, failed runs left out."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def runs_module():
    spec = importlib.util.spec_from_file_location("pipeline_runs", ROOT / "bench" / "pipeline_runs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(name: str, val: float, test: float | None = None, exit_code: int = 0, **overrides) -> dict:
    metrics = {"train": {"val_acc": val}}
    if test is not None:
        metrics["finetuned"] = {"ft_acc": test}
    return {"name": f"levers/{name}", "exit_code": exit_code, "metrics": metrics, "overrides": overrides}


def test_a_recipe_is_its_name_less_the_seed_suffix(runs_module):
    assert runs_module.group_of(run("ls0.2-s1", 0.8)) == "ls0.2"
    assert runs_module.group_of(run("b64-lr8e-4-s12", 0.8)) == "b64-lr8e-4"
    assert runs_module.group_of(run("e4", 0.8)) == "e4"  # no seed suffix
    assert runs_module.group_of(run("r64-sx", 0.8)) == "r64-sx"  # "-s" not followed by a number


def test_best_recipe_is_the_best_mean_validation_never_test(runs_module):
    results = [
        run("a-s1", 0.84, test=0.70, **{"train.lr": 1e-3, "train.seed": 1}),
        run("a-s2", 0.80, test=0.70, **{"train.lr": 1e-3, "train.seed": 2}),  # mean 0.82
        run("b-s1", 0.83, test=0.90, **{"train.lr": 2e-3, "train.seed": 1}),
        run("b-s2", 0.83, test=0.90, **{"train.lr": 2e-3, "train.seed": 2}),  # mean 0.83: chosen; test plays no part
        run("c-s1", 0.95, exit_code=1, **{"train.lr": 4e-3, "train.seed": 1}),  # failed: left out
    ]
    chosen = runs_module.best_group(results)
    assert chosen["name"] == "b" and chosen["mean_best_val_accuracy"] == pytest.approx(0.83)
    assert chosen["overrides"] == {"train.lr": 2e-3}  # the seed is the one thing a recipe does not carry
    # the same runs with their test accuracies swapped choose the same recipe
    for r in results:
        if "finetuned" in r["metrics"]:
            r["metrics"]["finetuned"]["ft_acc"] = 1.0 - r["metrics"]["finetuned"]["ft_acc"]
    assert runs_module.best_group(results)["name"] == "b"


def test_recipes_with_too_few_finished_seeds_are_left_out(runs_module):
    results = [run("a-s1", 0.90), run("b-s1", 0.80), run("b-s2", 0.82), run("a-s2", 0.99, exit_code=1)]
    assert runs_module.best_group(results, min_runs=2)["name"] == "b"
    assert runs_module.best_group(results, min_runs=1)["name"] == "a"
    assert runs_module.best_group(results, among=["b"])["name"] == "b"
    assert runs_module.best_group([run("a-s1", 0.9, exit_code=1)]) is None


def test_best_single_run_by_validation(runs_module):
    results = [run("x", 0.81, test=0.99), run("y", 0.83, test=0.50), run("z", 0.90, exit_code=1)]
    assert runs_module.best_run(results)["name"] == "levers/y"
    assert runs_module.best_run(results, among=["x"])["name"] == "levers/x"
