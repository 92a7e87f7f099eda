#!/usr/bin/env python3
"""Run the pipeline's stages for many composed params files, each in its own folder, on the GPUs of one host.

    python bench/pipeline_runs.py --plan PLAN.json --out OUT [--work /tmp/runs] [--deadline SECONDS]

Nothing is written into the checkout: each run gets a folder under --work holding its params.yaml and links to
the checkout's `stages/` and `data/raw/`, and runs `dvc.yaml`'s stage commands there exactly as written (python
bound to this interpreter, dvclive off), timing each stage. Every metrics and run-cost JSON a run writes is
collected into OUT/results.json as soon as the run ends, so a call cut short still reports what finished.

The plan is a list of phases, run one after another; a phase's runs share its slots, one run per slot at a time:

    {"base": "params.yaml",                       # composed params (scripts/compose_params.py)
     "phases": [{"name": "sweep", "slots": ["0", "0", "1", "1"], "stages": ["split", "train"],
                 "runs": {"b128-lr1.6e-3": {"train.batch_size": 128, "train.lr": 0.0016}, ...}},
                {"name": "seeds", "slots": ["0", "1"], "from": "fast",
                 "runs": {"seed1": {"seed": 1}, "acc-seed1": {"seed": 1, "_from": "accurate"}, ...}}],
     "choices": {"fast": {"best_of": "sweep", "among": ["b128-lr1.6e-3"]},
                 "accurate": {"best_of": "sweep", "skip_if_same_as": "fast"}}}

A slot is a CUDA_VISIBLE_DEVICES value ("0", "1" or "0,1" for a run of train.gpus: 2). A run's ``_slot`` pins it
to the slots of that value (runs of one and two GPUs can then share a phase); a run without one takes any slot. A
run with a choice (its
``_from``, else its phase's ``from``) starts from the overrides of the run, among an earlier phase's (``best_of``,
optionally only those named in ``among``), with the highest validation accuracy (best_val_accuracy of its train stage;
the test split is never used for a choice), then applies its own. ``skip_if_same_as``: the choice's runs are skipped
when it picks the same run as the other choice. --previous feeds earlier calls' results in as phases. Timings of
runs that shared a GPU with another run are marked (``shared_gpu``): quote only unshared ones as speed.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def set_dotted(params: dict, key: str, value) -> None:
    node = params
    *parents, last = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def compose(base: dict, overrides: dict) -> dict:
    params = copy.deepcopy(base)
    for key, value in overrides.items():
        set_dotted(params, key, value)
    return params


def stage_argv(name: str) -> list[str]:
    argv = shlex.split(STAGES[name]["cmd"])
    argv[0] = sys.executable if argv[0] == "python" else argv[0]
    if "--live-dir" in argv:
        argv += ["--live-dir", ""]  # no dvclive on a bare GPU box
    return argv


def prepare_folder(folder: Path, params: dict) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "data").mkdir(parents=True)
    (folder / "stages").symlink_to(ROOT / "stages")
    (folder / "conf").symlink_to(ROOT / "conf")  # the split stage checks the profile label against conf/profile/
    (folder / "data" / "raw").symlink_to(ROOT / "data" / "raw")
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def run_one(name: str, params: dict, stages: list[str], folder: Path, gpus: str, timeout: float) -> dict:
    prepare_folder(folder, params)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": gpus}
    seconds, code, log = {}, 0, folder / "log.txt"
    start = time.perf_counter()
    with open(log, "w") as out:
        for stage in stages:
            t = time.perf_counter()
            try:
                code = subprocess.run(
                    stage_argv(stage), cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
                ).returncode
            except subprocess.TimeoutExpired:
                code = 124
            seconds[stage] = round(time.perf_counter() - t, 2)
            if code:
                break
    wall = round(time.perf_counter() - start, 2)
    read = lambda d: {p.stem: json.loads(p.read_text()) for p in sorted((folder / d).glob("*.json"))}  # noqa: E731
    tail = log.read_text(errors="replace").splitlines()[-15:] if code else []
    return {
        "name": name,
        "exit_code": code,
        "failed_stage": stage if code else None,
        "cuda_visible_devices": gpus,
        "stage_seconds": seconds,
        "pipeline_seconds": wall,
        "metrics": read("metrics"),
        "runs": read("runs"),
        "log_tail": tail,
    }


def val_accuracy(run: dict) -> float:
    """The train stage's best validation accuracy (``val_acc``; ``best_val_accuracy`` in older result files)."""
    train = run["metrics"]["train"]
    return train["val_acc"] if "val_acc" in train else train["best_val_accuracy"]


def test_accuracy(run: dict):
    """The fine-tuned test accuracy (``ft_acc``; ``accuracy`` in older result files), or "" if not scored."""
    ft = run["metrics"].get("finetuned", {})
    return ft.get("ft_acc", ft.get("accuracy", ""))


def best_run(results: list[dict], among: list[str] | None = None) -> dict | None:
    done = [r for r in results if r["exit_code"] == 0 and "train" in r["metrics"]]
    if among is not None:
        done = [r for r in done if r["name"].split("/", 1)[1] in among]
    return max(done, key=val_accuracy, default=None)


def group_of(run: dict) -> str:
    """A run's group: its name in the phase less a trailing ``-s<seed>`` (the same recipe over several seeds)."""
    name = run["name"].split("/", 1)[1]
    stem, _, last = name.rpartition("-s")
    return stem if stem and last.isdigit() else name


def best_group(results: list[dict], among: list[str] | None = None, min_runs: int = 1) -> dict | None:
    """The group (recipe) with the highest mean best validation accuracy over its finished runs; its overrides are
    those of its first run less the training seed. Groups with fewer than ``min_runs`` finished runs are left out."""
    groups: dict[str, list[dict]] = {}
    for r in results:
        if r["exit_code"] == 0 and "train" in r["metrics"]:
            groups.setdefault(group_of(r), []).append(r)
    means = {
        g: sum(val_accuracy(r) for r in rs) / len(rs)
        for g, rs in groups.items()
        if len(rs) >= min_runs and (among is None or g in among)
    }
    for g in sorted(means, key=means.get, reverse=True):
        print(f"  group {g}: mean best val {means[g]:.4f} over {len(groups[g])} runs", flush=True)
    if not means:
        return None
    g = max(means, key=means.get)
    overrides = {k: v for k, v in groups[g][0]["overrides"].items() if k != "train.seed"}
    return {"name": g, "overrides": overrides, "mean_best_val_accuracy": means[g], "runs": len(groups[g])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plan", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--work", default="/tmp/runs")
    ap.add_argument("--deadline", type=float, default=540, help="seconds after which no new run starts")
    ap.add_argument("--stage-timeout", type=float, default=400)
    ap.add_argument("--previous", nargs="*", default=[], help="results.json of earlier calls: phases to choose from")
    args = ap.parse_args()
    plan = json.loads(Path(args.plan).read_text())
    base = yaml.safe_load((ROOT / plan["base"]).read_text()) if "base" in plan else {}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    import torch

    card = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    results: list[dict] = []
    lock = threading.Lock()
    by_phase: dict[str, list[dict]] = {}
    for path in args.previous:
        for r in json.loads(Path(path).read_text()) if Path(path).is_file() else []:
            by_phase.setdefault(r["phase"], []).append(r)

    def resolve(choice_name: str | None):
        """The earlier run a choice names (plan["choices"][name]: best_of, among, skip_if_same_as), or None."""
        if not choice_name:
            return {"name": None, "overrides": {}}
        choice = plan["choices"][choice_name]
        if "best_mean_of" in choice:
            chosen = best_group(
                by_phase.get(choice["best_mean_of"], []), choice.get("among"), choice.get("min_runs", 1)
            )
            if chosen is None and "fallback" in choice:
                chosen = {"name": choice.get("fallback_name", "fallback"), "overrides": choice["fallback"]}
        else:
            chosen = best_run(by_phase.get(choice["best_of"], []), choice.get("among"))
        other = choice.get("skip_if_same_as")
        if chosen is not None and other and (best := resolve(other)) and best["name"] == chosen["name"]:
            print(f"choice {choice_name}: {chosen['name']}, the same as {other}; its runs are skipped", flush=True)
            return None
        print(f"choice {choice_name}: {chosen and chosen['name']} {chosen and chosen['overrides']}", flush=True)
        return chosen

    for phase in plan["phases"]:
        stages = phase.get("stages") or list(STAGES)
        slots = phase["slots"]
        shared = len(set(slots)) < len(slots) or any("," in s for s in slots) and len(slots) > 1
        todo: list[tuple] = []  # (name, overrides, chosen_from, pinned slot or None), in the plan's order
        for name, own in phase["runs"].items():
            own = dict(own)
            chosen = resolve(own.pop("_from", phase.get("from")))
            pin = own.pop("_slot", None)
            if chosen is None:
                print(f"{phase['name']}/{name}: nothing to start from; skipped", flush=True)
                continue
            todo.append((f"{phase['name']}/{name}", {**chosen["overrides"], **own}, chosen["name"], pin))
        phase_results = by_phase.setdefault(phase["name"], [])

        def take(slot: str, todo=todo):
            """The first run not yet started that this slot may take (its pin, if any, is this slot), or None."""
            with lock:
                for i, item in enumerate(todo):
                    if item[3] in (None, slot):
                        return todo.pop(i)[:3]
            return None

        def worker(slot, slots=slots, phase=phase, stages=stages, shared=shared, mine=phase_results):
            while time.perf_counter() - t0 < args.deadline:
                if (item := take(slot)) is None:
                    return
                name, overrides, chosen_from = item
                params = compose(base, overrides)
                folder = Path(args.work) / name.replace("/", "__")
                r = run_one(name, params, stages, folder, slot, args.stage_timeout)
                r.update(
                    phase=phase["name"],
                    card=card,
                    overrides=overrides,
                    chosen_from=chosen_from,
                    seed=params.get("seed"),
                    params=params,
                    shared_gpu=shared,
                    concurrent_slots=slots,
                )
                with lock:
                    results.append(r)
                    mine.append(r)
                    (out / "results.json").write_text(json.dumps(results, indent=1))
                    acc = test_accuracy(r)
                    val = val_accuracy(r) if "train" in r["metrics"] else ""
                    print(
                        f"[{time.perf_counter() - t0:6.0f}s] {name} exit {r['exit_code']} val {val} test {acc} "
                        f"{r['pipeline_seconds']}s {r['stage_seconds']}",
                        flush=True,
                    )
                    for line in r["log_tail"]:
                        print("   ", line, flush=True)

        threads = [threading.Thread(target=worker, args=(s,)) for s in slots]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    print_table(results)


def print_table(results: list[dict]) -> None:
    cols = ["exit", "val", "test", "pipe_s", "train_s", "train_ex/s", "eval_ex/s", "shared"]
    print("| run | " + " | ".join(cols) + " |")
    for r in results:
        m, runs = r["metrics"], r["runs"]
        print(
            f"| {r['name']} | "
            + " | ".join(
                str(x)
                for x in (
                    r["exit_code"],
                    val_accuracy(r) if "train" in m else "",
                    test_accuracy(r),
                    r["pipeline_seconds"],
                    r["stage_seconds"].get("train", ""),
                    runs.get("train", {}).get("cost", {}).get("examples_per_second", ""),
                    runs.get("evaluate_finetuned", {}).get("cost", {}).get("examples_per_second", ""),
                    r["shared_gpu"],
                )
            )
            + " |"
        )


if __name__ == "__main__":
    main()
