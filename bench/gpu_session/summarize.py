#!/usr/bin/env python3
"""bench/results/gpu/summary.json from the six GPU sessions' raw result files (docs/gpu.md describes them).

python bench/gpu_session/summarize.py            # (re)write it
python bench/gpu_session/summarize.py --check    # exit 1 if the committed file is not what the result files give
"""

import argparse
import ast
import json
import re
import statistics
import sys
from pathlib import Path

RES = Path(__file__).resolve().parents[1] / "results" / "gpu"
TARGETS = {
    "embedded_pipeline_seconds_max": 90,
    "embedded_mean_test_accuracy_min_issue25": 0.835,
    "embedded_mean_test_accuracy_min_issue27": 0.85,
    "phi2_train_x_report_min": 30,
    "phi2_train_peak_allocated_gb_max": 24,
    "phi2_eval_examples_per_second_min": 1000,
    "phi2_low_mem_x_report_min": 2,
    "phi2_low_mem_peak_allocated_gb_max": 2.5,
    "two_gpu_speedup_min": 1.85,
    "two_gpu_val_accuracy_gap_max": 0.005,
}


def load(name):
    return json.loads((RES / name).read_text())


def val_acc(m: dict):
    t = m.get("train", {})
    return t.get("val_acc", t.get("best_val_accuracy"))


def run_row(r: dict) -> dict:
    """One pipeline_runs.py run, the fields a table needs (metric names of either session)."""
    m, runs = r["metrics"], r["runs"]
    ft, base, cmp_, stress = m.get("finetuned", {}), m.get("baseline", {}), m.get("compare", {}), m.get("stress", {})
    row = {
        "name": r["name"],
        "exit_code": r["exit_code"],
        "failed_stage": r.get("failed_stage"),
        "failure": why_failed(r) if r["exit_code"] else None,
        "seed": r["seed"],
        "train_seed": r["params"]["train"].get("seed", r["seed"]),
        "card": r["card"],
        "gpus": r["params"]["train"].get("gpus", 1),
        "compute_dtype": r["params"]["model"]["compute_dtype"],
        "shared_gpu": r["shared_gpu"],
        "concurrent_slots": r["concurrent_slots"],
        "n_train": m.get("data", {}).get("train"),
        "n_val": m.get("data", {}).get("val"),
        "n_test": ft.get("n", m.get("data", {}).get("test")),
        "best_val_accuracy": val_acc(m),
        "test_accuracy_baseline": base.get("base_acc", base.get("accuracy")),
        "test_accuracy": ft.get("ft_acc", ft.get("accuracy")),
        "test_macro_f1": ft.get("ft_f1", ft.get("macro_f1")),
        "pipeline_seconds": r["pipeline_seconds"],
        "stage_seconds": r["stage_seconds"],
        "train_loop_seconds": runs.get("train", {}).get("cost", {}).get("train_seconds"),
        "train_examples_per_second": runs.get("train", {}).get("cost", {}).get("examples_per_second"),
        "eval_examples_per_second": runs.get("evaluate_finetuned", {}).get("cost", {}).get("examples_per_second"),
        "peak_cuda_allocated_gb_train": runs.get("train", {}).get("cost", {}).get("peak_cuda_allocated_gb"),
    }
    if "hard_acc_ft" in cmp_:
        row["hard_accuracy"] = cmp_["hard_acc_ft"]
        row["easy_accuracy"] = cmp_["easy_acc_ft"]
        row["easy_minus_hard"] = round(cmp_["easy_acc_ft"] - cmp_["hard_acc_ft"], 4)
    if stress:
        row["stress_flip_rates"] = {k: v["flip_rate"] for k, v in stress.items() if isinstance(v, dict)}
    # in-stage seconds (after imports, before exit) against the stage's wall seconds: the rest is process start-up
    row["stage_main_seconds"] = {k: v["cost"]["stage_seconds"] for k, v in runs.items() if "stage_seconds" in v["cost"]}
    return row


def why_failed(r: dict) -> str:
    tail = " ".join(r.get("log_tail", []))
    if "OutOfMemoryError" in tail:  # session 2's failures; session 3 ran at most four processes per GPU
        return "CUDA out of memory (eight runs sharing one GPU)"
    if "mha_graph.execute" in tail:
        return "cuDNN attention failed to run (eight runs sharing one GPU, memory exhausted)"
    return (r.get("log_tail") or ["?"])[-1][:200]


def mean_sd(values: list[float]) -> dict:
    return {
        "mean": round(statistics.mean(values), 4) if values else None,
        "sd": round(statistics.stdev(values), 4) if len(values) > 1 else None,
        "n": len(values),
        "values": values,
    }


def group_of(name: str) -> str:
    stem, _, last = name.split("/", 1)[1].rpartition("-s")
    return stem if stem and last.isdigit() else name.split("/", 1)[1]


def profile_rounds(path: Path) -> dict:
    """train_step_profile's round lines (its JSON did not come back in session 2): seconds per step by variant."""
    out: dict[str, list[float]] = {}
    for line in path.read_text().splitlines():
        if line.startswith("round"):
            _, name, rest = line.split(": ", 2)
            out.setdefault(name, []).append(float(rest.split(" s/step")[0]))
    return {k: {"seconds_per_step_median": round(statistics.median(v), 3), "runs": v} for k, v in out.items()}


def phi2_rows(bench: dict) -> list[dict]:
    keys = (
        "key", "config", "train_examples_per_second", "train_examples_per_second_runs",
        "train_speedup_vs_report_config", "train_speedup_vs_report_config_runs", "eval_examples_per_second",
        "eval_examples_per_second_runs", "eval_batch", "peak_allocated_gb", "all_finite",
    )  # fmt: skip
    return [{k: r[k] for k in keys} for r in bench["rows"]]


def lever_table(levers: list[dict]) -> list[dict]:
    """One row per lever (runs grouped by name less the seed), best mean validation first; failed ones last."""
    groups: dict[str, list[dict]] = {}
    for r in levers:
        groups.setdefault(group_of(r["name"]), []).append(r)
    rows = []
    for g, rs in groups.items():
        done = [r for r in rs if r["exit_code"] == 0]
        vals = [val_acc(r["metrics"]) for r in done]
        rows.append(
            {
                "lever": g,
                "overrides": {k: v for k, v in rs[0]["overrides"].items() if k != "train.seed"},
                "runs": len(rs),
                "finished": len(done),
                "val_accuracy_by_seed": {r["params"]["train"]["seed"]: val_acc(r["metrics"]) for r in done},
                "val_accuracy_mean": round(statistics.mean(vals), 4) if vals else None,
                "failed": {r["params"]["train"]["seed"]: why_failed(r) for r in rs if r["exit_code"]},
                "train_stage_seconds_shared": [r["stage_seconds"].get("train") for r in done],
            }
        )
    rows.sort(key=lambda x: (x["finished"] < 2, -(x["val_accuracy_mean"] or 0)))
    return rows


def session4_levers(levers: list[dict]) -> list[dict]:
    """Session 4's levers (every stage ran): lever_table's rows plus test accuracy and the shortcut measures."""
    rows = lever_table([r for r in levers if r["phase"] == "levers"])
    for row in rows:
        runs = [run_row(r) for r in levers if r["phase"] == "levers" and group_of(r["name"]) == row["lever"]]
        runs = [r for r in runs if r["exit_code"] == 0]
        flips = [r["stress_flip_rates"] for r in runs]
        row |= {
            "test_accuracy_by_seed": {r["train_seed"]: r["test_accuracy"] for r in runs},
            "test_accuracy": mean_sd([r["test_accuracy"] for r in runs]),
            "easy_minus_hard_mean": round(statistics.mean(r["easy_minus_hard"] for r in runs), 4),
            "hard_accuracy_mean": round(statistics.mean(r["hard_accuracy"] for r in runs), 4),
            "stress_flip_rates_mean": {k: round(statistics.mean(f[k] for f in flips), 4) for k in flips[0]},
        }
    return rows


def soups_summary(soups: dict, levers: list[dict]) -> dict:
    """bench/adapter_soup.py's soups (soups_s4.py): each against its members, and the 3-seed soups together."""
    rows = {
        name: {
            "members": e["members"],
            "member_val_accuracy": e["member_val_accuracy"],
            "val_accuracy": e["val"]["accuracy"],
            "test_accuracy": e["test"]["accuracy"],
            "member_test_accuracy": e["member_test_accuracy"],
        }
        for name, e in soups.items()
    }
    ctl3 = [r for n, r in rows.items() if n.startswith("ctl3-")]
    members = [v for r in ctl3 for v in r["member_val_accuracy"]]
    ctl_seeds = [r for r in levers if r["exit_code"] == 0 and group_of(r["name"]) == "ctl"]
    return {
        "method": "bench/adapter_soup.py: one adapter of rank k*r whose update is the mean of k training seeds' "
        "updates (exact); scored by stages/evaluate.py on the 500 validation pairs and the 9,824 test pairs; the "
        "members are the committed recipe's runs, training seeds 1-9 (swap3: the swap lever's seeds 1-3)",
        "soups": rows,
        "three_seed_soups": {
            "val_accuracy": mean_sd([r["val_accuracy"] for r in ctl3]),
            "members_val_accuracy": mean_sd(members),
            "test_accuracy": mean_sd([r["test_accuracy"] for r in ctl3]),
            "single_seeds_test_accuracy": mean_sd(
                [r["metrics"]["finetuned"]["ft_acc"] for r in ctl_seeds if "finetuned" in r["metrics"]]
            ),
        },
        "decision": "not adopted: on validation the 3-seed soups are level with their members (the choice is made "
        "there; 500 pairs cannot resolve half a point); their test accuracy is reported, never used to choose",
    }


def alone_runs() -> dict:
    """Session 4: the committed recipe, seed 1, every stage, alone on the machine, three ways."""
    files = {
        "as_before": ("embedded_alone_h200x2_s4.json", "the code as at session 3; every process compiles its "
                      "imports (the bundles install --no-compile and the image sets PYTHONDONTWRITEBYTECODE=1)"),
        "compare_fix_site_compiled": ("embedded_alone_compiled_h200x2_s4.json", "a fresh machine: the compare "
                                      "stage's fit on one BLAS thread, the bundled packages compiled once "
                                      "(compileall); the image's own (torch, torchvision) still compiled per process"),
        "all_bytecode_cached": ("embedded_alone_pycache_h200x2_s4.json", "as above, with every package's bytecode "
                                "compiled once into PYTHONPYCACHEPREFIX: what a regular pip install gives"),
    }  # fmt: skip
    out = {}
    for key, (name, note) in files.items():
        r = run_row(load(name)[0])
        out[key] = {"file": name, "note": note} | {
            k: r[k]
            for k in (
                "pipeline_seconds", "stage_seconds", "stage_main_seconds", "train_loop_seconds",
                "train_examples_per_second", "test_accuracy", "best_val_accuracy", "shared_gpu",
            )
        }  # fmt: skip
    return out


def compare_threads() -> dict:
    """compare_threads_h200x2_s4.txt's timing lines: the compare stage's wall by OMP_NUM_THREADS, in run order."""
    runs: dict[str, list[float]] = {}
    for line in (RES / "compare_threads_h200x2_s4.txt").read_text().splitlines():
        if line.startswith("compare OMP_NUM_THREADS="):
            threads, ms = line.removeprefix("compare OMP_NUM_THREADS=").split(": ")
            runs.setdefault(threads, []).append(round(int(ms.split()[0]) / 1000, 2))
    return {"seconds_by_threads": runs, "note": "before the one-thread fix: 32 = torch's and BLAS's default there"}


AB_LINE = re.compile(
    r"^([AB])(\d) \(([^)]*)\): \[\s*\d+s\] alone/ctl-s1 exit (\d+) val ([\d.]+) test ([\d.]+) ([\d.]+)s (\{.*\})$"
)


def attention_ab() -> dict:
    """Session 5 (ab_s5/ab_s5.log, written by bg_ab_s5.sh and call 9): the committed recipe's seed 1, every stage,
    alone on the machine, legs A (SDPA's cuDNN backend on: the code before) and B (off) interleaved."""
    legs = []
    for line in (RES / "ab_s5" / "ab_s5.log").read_text().splitlines():
        if m := AB_LINE.match(line):
            code, i, _tree, rc, val, test, secs, stages = m.groups()
            legs.append(
                {"leg": code + i, "cudnn_attention": code == "A", "exit_code": int(rc), "best_val_accuracy": float(val),
                 "test_accuracy": float(test), "pipeline_seconds": float(secs),
                 "stage_seconds": ast.literal_eval(stages)}  # a dict literal of floats, printed by pipeline_runs.py
            )  # fmt: skip
    for leg in legs:
        f = RES / "ab_s5" / f"embedded_alone_{leg['leg']}.json"
        leg["train_loop_seconds"] = run_row(json.loads(f.read_text())[0])["train_loop_seconds"] if f.is_file() else None
    a = [x for x in legs if x["cudnn_attention"]]
    b = [x for x in legs if not x["cudnn_attention"]]
    return {
        "method": "bench/gpu_session/bg_ab_s5.sh and call9_ab_s5.sh: plan_alone_s5.json run six times alone on GPU 0 "
        "of a fresh machine (nothing else running), A B A B A B; A from a copy of the tree with the code before "
        "loading.prefer_flash_attention, B with it; every package's bytecode compiled first",
        "legs": legs,
        "pipeline_seconds_median": {
            "cudnn_on": statistics.median(x["pipeline_seconds"] for x in a),
            "cudnn_off": statistics.median(x["pipeline_seconds"] for x in b),
        },
        "train_stage_seconds_by_pair": [
            [x["stage_seconds"]["train"], y["stage_seconds"]["train"]] for x, y in zip(a, b)
        ],
        "note": "B3's JSON did not come back (the call's file count); its figures are from its log line, its "
        "training loop seconds are unknown",
    }


def blocks_session5() -> dict:
    """Session 5: the committed recipe over validation blocks 0-4 x training seeds 1-3 and its soups (soups_s5.py)."""
    runs = load("embedded_blocks_h200x2_s5.json")
    soups = load("embedded_block_soups_h200x2_s5.json")
    member_test = {k: v["test"]["accuracy"] for k, v in soups["members"].items()}
    blocks = {
        b: {
            "member_val_accuracy": e["member_val_accuracy"],
            "member_test_accuracy": [member_test[m] for m in e["members"]],
            "soup_val_accuracy": e["val"]["accuracy"],
            "soup_test_accuracy": e["test"]["accuracy"],
            "soup_minus_members_val": e["soup_minus_members_val"],
        }
        for b, e in soups["blocks"].items()
    }
    cross = {
        k: {"members": e["members"], "test_accuracy": e["test"]["accuracy"]}
        for k, e in soups["cross_fit_soups"].items()
    }
    return {
        "method": "plan_blocks_s5.json (split.val_block 0-4, train.seed 1-3, split + train, four runs per GPU), then "
        "soups_s5.py: each block's three adapters souped (bench/adapter_soup.py) and scored on that block's 500 "
        "validation pairs and on test; the cross-fit soups (one seed over blocks 0-4, and all fifteen) on test only",
        "runs": [
            {
                "name": r["name"],
                "exit_code": r["exit_code"],
                "best_val_accuracy": val_acc(r["metrics"]),
                "train_stage_seconds_shared": r["stage_seconds"].get("train"),
            }
            for r in runs
        ],  # fmt: skip
        "blocks": blocks,
        "soup_minus_members_val_paired": soups["soup_minus_members_val"],
        "members_test_accuracy": mean_sd(list(member_test.values())),
        "block_soups_test_accuracy": mean_sd([e["soup_test_accuracy"] for e in blocks.values()]),
        "cross_fit_soups": cross,
        "cross_fit_five_member_test_accuracy": mean_sd(
            [e["test_accuracy"] for k, e in cross.items() if k.startswith("x-")]
        ),
        "decision": "soups not adopted: on 2,500 validation pairs, paired by block, a soup is level with its members "
        "(95% interval about -0.4 to +0.4 points); their test gain is reported, never used to choose",
    }


def shared_run(r: dict) -> dict:
    """A split + train run that shared its GPU: what it was, and its validation (its timing is not quotable)."""
    return {
        "name": r["name"],
        "overrides": r["overrides"],
        "exit_code": r["exit_code"],
        "best_val_accuracy": val_acc(r["metrics"]),
        "train_stage_seconds_shared": r["stage_seconds"].get("train"),
    }


def seed_figures(runs: list[dict]) -> dict:
    """The finished runs' training seeds and their test accuracy: mean, sd, min, max."""
    done = [r for r in runs if r["exit_code"] == 0]
    accs = [r["test_accuracy"] for r in done]
    return {
        "seeds": [r["train_seed"] for r in done],
        "test_accuracy_mean": round(statistics.mean(accs), 4),
        "test_accuracy_sd": round(statistics.stdev(accs), 4) if len(accs) > 1 else None,
        "test_accuracy_min": min(accs),
        "test_accuracy_max": max(accs),
    }


def batch_session6() -> dict:
    """Session 6 (make_plans_s6.py, bg_s6.sh): batch-256 recipes against the committed batch 128 on validation blocks
    0-4 (training seed 1, split + train), the choice by the rule written before the runs, the pipeline alone (A: batch
    128, B: the choice, interleaved) and the choice's seeds 2-3."""
    runs = load("embedded_batch_h200x2_s6.json")
    choice = load("choice_batch_h200x2_s6.json")
    legs = [run_row(r) for r in load("embedded_alone_h200x2_s6.json")]
    a = [x for x in legs if x["name"].startswith("alone/A")]
    b = [x for x in legs if x["name"].startswith("alone/B")]
    return {
        "method": "plan_batch_s6.json: four recipes x validation blocks 0-4, train.seed 1, split + train, three runs "
        "per GPU (timings shared); choice and rule in make_plans_s6.py; then plan_seeds_s6.json (the choice's seeds 2 "
        "and 3, every stage, one per GPU) and plan_alone_s6.json (seed 1, every stage, alone on GPU 0, A B A B A B; "
        "every package's bytecode compiled first)",
        "recipes": choice["validation"],
        "runs": [shared_run(r) for r in runs],
        "chosen": choice["chosen"],
        "chosen_minus_committed_val_paired": choice["minus_ctl"],
        "within_margin": choice["within_margin"],
        "alone_legs": legs,
        "pipeline_seconds_median": {
            "batch_128": statistics.median(x["pipeline_seconds"] for x in a),
            "batch_256": statistics.median(x["pipeline_seconds"] for x in b),
        },
        "train_stage_seconds_median": {
            "batch_128": statistics.median(x["stage_seconds"]["train"] for x in a),
            "batch_256": statistics.median(x["stage_seconds"]["train"] for x in b),
        },
        "pipeline_seconds_by_pair": [[x["pipeline_seconds"], y["pipeline_seconds"]] for x, y in zip(a, b)],
        "decision": "adopted as conf/profile/embedded-full: validation within the rule's half point (it came out "
        "above), and the pipeline alone faster in every pair",
    }


def two_gpus_session6(one_gpu: list[dict]) -> dict:
    """Session 6: the adopted recipe with train.gpus 2 (split + train, seeds 1-3, one run at a time on both GPUs of
    the machine) against the same seeds on one GPU (embedded_full's runs: the same split and recipe)."""
    two = {r["train_seed"]: r for r in map(run_row, load("embedded_gpus2_h200x2_s6.json")) if r["exit_code"] == 0}
    one = {r["train_seed"]: r for r in one_gpu if r["exit_code"] == 0 and r["train_seed"] in two}
    seeds = sorted(one)
    one_val = statistics.mean(one[k]["best_val_accuracy"] for k in seeds)
    two_val = statistics.mean(two[k]["best_val_accuracy"] for k in seeds)
    return {
        "recipe": "the committed recipe, train.gpus 2 (global batch 256 = 128 per GPU) against train.gpus 1, the "
        "same training seeds; two GPUs: plan_gpus2_s6.json, one run at a time (split + train); one GPU: embedded_full",
        "seeds": seeds,
        "global_batch": load("embedded_gpus2_h200x2_s6.json")[0]["params"]["train"]["batch_size"],
        "one_gpu_val_by_seed": {k: one[k]["best_val_accuracy"] for k in seeds},
        "two_gpus_val_by_seed": {k: two[k]["best_val_accuracy"] for k in seeds},
        "one_gpu_val_mean": round(one_val, 4),
        "two_gpus_val_mean": round(two_val, 4),
        "val_accuracy_gap": round(two_val - one_val, 4),
        "train_examples_per_second": {
            "one_gpu": [one[k]["train_examples_per_second"] for k in seeds],
            "two_gpus": [two[k]["train_examples_per_second"] for k in seeds],
        },
        "train_stage_seconds_two_gpus": [two[k]["stage_seconds"]["train"] for k in seeds],
    }


def phi2_session6() -> dict:
    """Session 6's Phi-2-shapes benches on GPU 0, alone on the machine: three processes, each with its report row."""
    out = {}
    for key, name, note in (
        ("main", "gpu_bench_h200x2_s6.json", "report, fast, low-mem-8bit and low-mem-fast"),
        ("low_mem_batches", "gpu_bench_lowmem_h200x2_s6.json", "low-mem rows in one step of 16 and 32 pairs"),
        ("low_mem_batches_2", "gpu_bench_lowmem2_h200x2_s6.json", "low-mem rows in one step of 10 and 12 pairs"),
    ):
        bench = load(name)
        out[key] = {"file": name, "note": note, "rows": phi2_rows(bench)}
    out["method"] = load("gpu_bench_h200x2_s6.json")["method"]
    return out


def dora_session7() -> dict:
    """Session 7 (make_plans_s7.py): DoRA against the committed recipe on validation blocks 0-4, training seed 1.
    The first try ran three a GPU and most runs ran out of GPU memory; those ran again two at a time
    (plan_dora2_s7.json)."""
    first, again = load("embedded_dora_h200x2_s7.json"), load("embedded_dora2_h200x2_s7.json")
    choice = load("choice_dora_h200x2_s7.json")
    ok = [run_row(r) for r in first + again if r["exit_code"] == 0]
    return {
        "method": "plan_dora_s7.json (three runs a GPU) then plan_dora2_s7.json (the runs that failed, two at a time "
        "on GPU 1), split + train; choice and rule in make_plans_s7.py; the committed recipe's validation on these "
        "blocks is session 6's (embedded_batch_h200x2_s6.json), and block 0 ran again as the check",
        "validation": choice["validation"],
        "check_block0_now_vs_session6": choice["checks"]["ctl-b0"],
        "chosen": choice["chosen"],
        "chosen_minus_committed": choice["minus_ctl"],
        "adopted": choice["adopt"],
        "failed_first_try": sorted(r["name"] for r in first if r["exit_code"] != 0),
        "train_stage_seconds_dora": [r["stage_seconds"]["train"] for r in ok if not r["name"].startswith("dora/ctl")],
        "test_seeds": "not run: the chosen recipe was below the committed one on validation, and the session's "
        "device time went to the Phi-2 benches",
    }


def phi2_process(name: str, note: str) -> dict:
    """One gpu_bench.py process (sessions 7 and 8): its rows (with the activation and the scoring variants)."""
    bench = load(name)
    extra = ("activation", "eval_variants_examples_per_second", "eval_variants_examples_per_second_runs")
    rows = [r | {k: b[k] for k in extra} for r, b in zip(phi2_rows(bench), bench["rows"], strict=True)]
    return {"file": name, "gpu": bench["gpu"], "note": note, "method": bench["method"], "rows": rows}


def phi2_session7() -> dict:
    """Session 7's Phi-2-shapes benches: the fused GELU against the stock one (x2 machine, GPU 0 alone while GPU 1
    trained DoRA runs), then two processes on one H200 alone."""
    procs = {
        "fused_gelu": phi2_process(
            "gpu_bench_h200x2_s7.json",
            "nvidia-h200-x2, GPU 0; GPU 1 trained DoRA runs meanwhile (the host was shared). report and fast-stock "
            "keep Phi-2's stock gelu_new; every other row loads it as PyTorch's fused tanh GELU",
        ),
        "no_checkpointing": phi2_process(
            "gpu_bench_nockpt_h200_s7.json", "nvidia-h200 alone: the fast row without gradient checkpointing"
        ),
        "repeat": phi2_process("gpu_bench_repeat_h200_s7.json", "nvidia-h200 alone, a second process, five rounds"),
    }
    train, merged, low = {}, {}, {}
    for key, proc in procs.items():
        by = {r["key"]: r for r in proc["rows"]}
        fits = [r for r in proc["rows"] if r["key"] != "report" and r["peak_allocated_gb"] <= 24]
        best = max(fits, key=lambda r: r["train_speedup_vs_report_config"])
        train[key] = {"row": best["key"], "x_report": best["train_speedup_vs_report_config"],
                      "peak_allocated_gb": best["peak_allocated_gb"],
                      "report_examples_per_second": by["report"]["train_examples_per_second"]}  # fmt: skip
        merged[key] = by["fast"]["eval_variants_examples_per_second"].get("merged")
        low[key] = {k: by["low-mem-12-fast"][k] for k in ("train_speedup_vs_report_config", "peak_allocated_gb")}
    return {
        "processes": procs,
        "best_train_within_24gb": train,
        "eval_merged_examples_per_second": merged,
        "low_mem_12": low,
        "profile": "gpu_bench_h200x2_s7_profile.txt (torch.profiler, the fast row: two optimizer steps, one scoring)",
    }


def phi2_session8() -> dict:
    """Session 8's Phi-2-shapes benches, three processes on one H200 alone: batches as a pipeline-sized run groups
    them, each LayerNorm output cast once in training; the rows that measure each change, then larger batches and
    low-mem steps, then the target rows again."""
    procs = {
        "main": phi2_process(
            "gpu_bench_h200_s8.json",
            "report and fast beside the same rows with batches drawn as in sessions 1-7 (-round), fast with the "
            "LayerNorm output cast by each consumer (fast-normcast-off), fast without checkpointing at 64-80 pairs",
        ),
        "larger_batches": phi2_process(
            "gpu_bench_h200_s8b.json", "fast at batches 384 and 512, no checkpointing at 76 pairs, low-mem at 12-16"
        ),
        "target_rows": phi2_process("gpu_bench_h200_s8c.json", "the rows that carry the targets, in a third process"),
    }
    limit, low_limit = TARGETS["phi2_train_peak_allocated_gb_max"], TARGETS["phi2_low_mem_peak_allocated_gb_max"]
    train, merged, low, by_key = {}, {}, {}, {}
    for key, proc in procs.items():
        rows = {r["key"]: r for r in proc["rows"]}
        fits = [r for r in proc["rows"] if r["key"] != "report" and r["peak_allocated_gb"] <= limit]
        best = max(fits, key=lambda r: r["train_speedup_vs_report_config"])
        train[key] = {"row": best["key"], "x_report": best["train_speedup_vs_report_config"],
                      "peak_allocated_gb": best["peak_allocated_gb"],
                      "report_examples_per_second": rows["report"]["train_examples_per_second"]}  # fmt: skip
        if "merged" in rows["fast"]["eval_variants_examples_per_second"]:
            merged[key] = rows["fast"]["eval_variants_examples_per_second"]["merged"]
        lows = [r for r in proc["rows"] if r["key"].startswith("low-mem") and r["peak_allocated_gb"] <= low_limit]
        top = max(lows, key=lambda r: r["train_speedup_vs_report_config"])
        low[key] = {"row": top["key"]} | {k: top[k] for k in ("train_speedup_vs_report_config", "peak_allocated_gb")}
        for r in fits:
            by_key.setdefault(r["key"], {})[key] = r["train_speedup_vs_report_config"]
    # a configuration within 24 GB that reached 30x in every process that ran it, and ran in more than one
    steady = {k: v for k, v in by_key.items() if len(v) > 1 and min(v.values()) >= TARGETS["phi2_train_x_report_min"]}
    main = {r["key"]: r for r in procs["main"]["rows"]}
    return {
        "processes": procs,
        "best_train_within_24gb": train,
        "train_x_report_within_24gb_by_row": by_key,
        "train_rows_at_30x_in_every_process": steady,
        "eval_merged_examples_per_second": merged,
        "low_mem_best": low,
        "changes_in_one_process": {
            "note": "process main, training examples a second (median of 5 rounds): fast against the same row with "
            "one change undone",
            "fast": main["fast"]["train_examples_per_second"],
            "batches_as_sessions_1_7": main["fast-round"]["train_examples_per_second"],
            "layernorm_cast_by_each_consumer": main["fast-normcast-off"]["train_examples_per_second"],
            "report": main["report"]["train_examples_per_second"],
            "report_batches_as_sessions_1_7": main["report-round"]["train_examples_per_second"],
        },
        "padding": "padding_s8.json (the timed batches' padding and mean length; padding_s7.json: sessions 1-7)",
    }


def ensembles_session9(committed: list[dict]) -> dict:
    """Session 9 (make_plans_s9.py, ensembles_s9.py): logit ensembles and soups of the committed recipe's cross-fit
    members (validation blocks 0-4 x training seeds 1-3, split + train, then scored), and two learning curves."""
    ens = load("embedded_ensembles_h200_s9.json")
    block0 = {int(k[-1]): v["test_accuracy"] for k, v in ens["members"].items() if "-b0-" in k}
    return {
        "method": "plan_blocks_s9.json (three runs on one H200 at a time), then ensembles_s9.py: every member scored "
        "on its own validation block and on test, each block's soup and the cross-fit soups scored, logit ensembles "
        "(members' mean log-probabilities) computed from the members' predictions; plan_curve_s9.json (4 epochs) and "
        "plan_curve_steps_s9.json (the full run's 148 steps) for the curves; rule in make_plans_s9.py",
        "check_block0_vs_committed": {s: [block0[s], r["test_accuracy"]] for s, r in enumerate(committed, 1)},
        "blocks": ens["blocks"],
        "ensemble_minus_members_val": ens["ensemble_minus_members_val"],
        "soup_minus_members_val": ens["soup_minus_members_val"],
        "adopted": ens["adopt_ensembling"],
        "cross_fit": ens["cross_fit"],
        "cross_fit_ensembles_test_mean": ens["cross_fit_ensembles_test_mean"],
        "curve_epochs": ens["curve_epochs"],
        "curve_steps": ens["curve_steps"],
        "pool_pairs": 9842,
    }


def main(check: bool = False) -> None:
    # session 1 (2026-11-30 morning, nvidia-h200-x2)
    final1 = load("embedded_final_h200x2.json")
    sweep1 = load("embedded_sweep_h200x2.json")
    bench1 = load("gpu_bench_h200.json")
    ddp = load("ddp_phi2_shapes_h200x2.json")
    seeds1 = [run_row(r) for r in final1 if r["phase"] in ("alone", "seeds") and "fp32" not in r["name"]]
    one1 = next(run_row(r) for r in final1 if r["name"] == "alone/fast-seed1")
    two1 = next(run_row(r) for r in final1 if r["name"] == "gpus2/fast-seed1-gpus2")
    # session 2 (one H200)
    levers = load("embedded_levers_h200_s2.json")
    final2 = load("embedded_final_h200_s2.json")
    bench2 = load("gpu_bench_h200_s2.json")
    rows2 = [run_row(r) for r in final2]
    win = [r for r in rows2 if group_of(r["name"]) == "win"]
    win_ok = [r for r in win if r["exit_code"] == 0]
    base2 = [r for r in rows2 if group_of(r["name"]) == "base"]
    fp32 = [r for r in rows2 if group_of(r["name"]) == "win-fp32"]
    alone = next(r for r in rows2 if r["name"] == "alone/win-s1")
    accs2 = [r["test_accuracy"] for r in win_ok]
    lever_rows2 = lever_table(levers)
    # session 3 (nvidia-h200-x2: two H200)
    levers3 = load("embedded_levers_h200x2_s3.json")
    final3 = load("embedded_final_h200x2_s3.json")
    ddp3 = load("ddp_phi2_shapes_h200x2_s3.json")
    rows3 = [run_row(r) for r in final3]
    win3 = [r for r in rows3 if group_of(r["name"]) == "win"]
    accs = [r["test_accuracy"] for r in win3 if r["exit_code"] == 0]
    fp32_3 = [r for r in rows3 if group_of(r["name"]) == "win-fp32"]
    lever_rows = lever_table([r for r in levers3 if group_of(r["name"]) not in ("ctl-gpus2", "ctl-seed3")])
    by_seed = {g: {} for g in ("ctl", "ctl-seed3", "ctl-gpus2")}
    for r in levers3:
        if (g := group_of(r["name"])) in by_seed and r["exit_code"] == 0:
            by_seed[g][r["params"]["train"]["seed"]] = run_row(r)
    one = {**by_seed["ctl"], **by_seed["ctl-seed3"]}
    two3 = by_seed["ctl-gpus2"]
    one_val = statistics.mean(one[k]["best_val_accuracy"] for k in sorted(two3))
    two_val = statistics.mean(r["best_val_accuracy"] for r in two3.values())
    # session 4 (nvidia-h200-x2)
    levers4 = load("embedded_levers_h200x2_s4.json")
    alone4 = alone_runs()
    bench4 = load("gpu_bench_h200x2_s4.json")
    # session 5 (nvidia-h200-x2)
    seeds5_raw = load("embedded_seeds_nocudnn_h200x2_s5.json")
    seeds5 = [run_row(r) for r in seeds5_raw]
    recipe5 = seeds5_raw[0]["params"]
    ab = attention_ab()
    bench5 = load("gpu_bench_h200x2_s5.json")
    steps5 = load("train_step_nocudnn_h200x2_s5.json")
    rounds = profile_rounds(RES / "train_step_profile_h200_s2.txt")
    starts = load("start_costs_h200_s2.json")["pieces"]
    # session 7 (nvidia-h200-x2, then nvidia-h200)
    phi2_7 = phi2_session7()
    # session 8 (nvidia-h200)
    phi2 = phi2_session8()
    # session 6 (nvidia-h200-x2)
    batch6 = batch_session6()
    seed1 = next(x for x in batch6["alone_legs"] if x["name"] == "alone/B1")
    seeds6_raw = load("embedded_seeds_h200x2_s6.json")
    seeds6 = [seed1] + [run_row(r) for r in seeds6_raw]
    accs6 = [r["test_accuracy"] for r in seeds6 if r["exit_code"] == 0]
    recipe6 = seeds6_raw[0]["params"]
    summary = {
        "card": final3[0]["card"],
        "machine": "device kind nvidia-h200-x2 (2 x NVIDIA H200, NV18, 32 cores), sessions 3-6; session 2 "
        "ran on nvidia-h200 (1 x H200, 16 cores), session 1 on nvidia-h200-x2",
        "targets": TARGETS,
        "embedded_full": {
            "recipe_params": {k: v for k, v in recipe6.items() if k != "seed"},
            "recipe_overrides_vs_committed": {k: v for k, v in seeds6_raw[0]["overrides"].items() if k != "train.seed"},
            "chosen_from": "session 6's batch-256 recipes against session 2's winner (batch 128) on validation blocks "
            "0-4 (batch_session6); sessions 3-5's levers and soups had not displaced batch 128",
            "chosen_by": "mean best validation accuracy over validation blocks 0-4 (training seed 1), within half a "
            "point of batch 128 paired by block, and a faster pipeline alone; the test split never used for a choice",
            "code": "SDPA's cuDNN backend off on GPUs (loading.prefer_flash_attention), as in session 5",
            "seed_note": "split seed 42 for every run (the same 500 validation pairs and all 9,824 test pairs); "
            "train.seed 1 from the alone legs (B1; B2 and B3 gave the same figures), 2 and 3 one per GPU at once",
            "runs": seeds6,
            **seed_figures(seeds6),
            "pipeline_seconds_alone": batch6["pipeline_seconds_median"]["batch_256"],
            "train_stage_seconds_alone": batch6["train_stage_seconds_median"]["batch_256"],
            "alone_note": "session 6: median of three runs of seed 1 alone on the machine (batch_session6: the B "
            "legs, interleaved with batch 128's A legs), every package's bytecode compiled once",
            "pipeline_seconds_all": [r["pipeline_seconds"] for r in seeds6 if r["exit_code"] == 0],
        },
        "embedded_session5": {
            "recipe_params": {k: v for k, v in recipe5.items() if k != "seed"},
            "recipe_overrides_vs_committed": seeds5_raw[0]["overrides"],
            "note": "the recipe committed before session 6 (batch 128, lr 1.6e-3, 3 epochs)",
            "code": "session 5: SDPA's cuDNN backend off on GPUs (loading.prefer_flash_attention); sessions 2-4's "
            "figures ran with it on (embedded_session3)",
            "seed_note": "split seed 42 for every run (the same 500 validation pairs and all 9,824 test pairs); "
            "train.seed 1-3; every stage; two runs on GPU 0 and one on GPU 1 at once (timings shared)",
            "runs": seeds5,
            **seed_figures(seeds5),
            "pipeline_seconds_alone": ab["pipeline_seconds_median"]["cudnn_off"],
            "train_stage_seconds_alone": statistics.median(
                leg["stage_seconds"]["train"] for leg in ab["legs"] if not leg["cudnn_attention"]
            ),
            "alone_note": "session 5: median of three runs of seed 1 alone on a fresh machine (attention_ab_session5: "
            "the B legs), every package's bytecode compiled once (as a pip install does)",
            "pipeline_seconds_all": [r["pipeline_seconds"] for r in seeds5 if r["exit_code"] == 0],
        },
        "embedded_session3": {
            "note": "the same recipe and seeds with SDPA's cuDNN backend on (sessions 2-4); session 4 reproduced "
            "these to four digits",
            "runs": win3,
            "test_accuracy": mean_sd(accs),
            "pipeline_seconds_alone_session4": alone4["all_bytecode_cached"]["pipeline_seconds"],
            "train_loop_seconds_alone_session4": alone4["all_bytecode_cached"]["train_loop_seconds"],
        },
        "batch_session6": batch6,
        "nf4_cache_session6": load("nf4_cache_h200x2_s6.json")
        | {"decision": "not adopted: bitsandbytes' CPU and CUDA quantization round most SmolLM2 layers differently"},
        "phi2_shapes_session6": phi2_session6(),
        "phi2_shapes_session8": phi2,
        "phi2_shapes_session7": phi2_7,
        "dora_session7": dora_session7(),
        "ensembles_session9": ensembles_session9(seeds6),
        "attention_ab_session5": ab,
        "train_step_session5": {
            "method": steps5["method"],
            "rows": steps5["rows"],
            "note": "bench/train_step_profile.py --no-profile on GPU 0 while gpu_bench.py ran on GPU 1 (call 3)",
        },
        "embedded_blocks_session5": blocks_session5(),
        "embedded_fp32": {
            "runs": fp32_3,
            "test_accuracy": mean_sd([r["test_accuracy"] for r in fp32_3 if not r["exit_code"]]),
        },
        "embedded_levers": lever_rows,
        "embedded_levers_note": "verb-true-false seed 2 never started (the plan's 420 s deadline for new runs "
        "passed), so that lever has one seed and was not eligible; r64-a128 seed 1 collapsed to one class (train "
        "loss 1.36, no non-finite value)",
        "embedded_alone_session4": alone4,
        "embedded_alone_session2_seconds": alone["pipeline_seconds"],
        "embedded_levers_session4": session4_levers(levers4),
        "embedded_levers_session4_note": "every stage ran, four runs per GPU; swap: train.swap_contradictions "
        "(12,451 training pairs); no4bit: model.quantization.load_in_4bit false (bf16 weights without NF4 "
        "rounding; a measurement of what 4-bit costs, not a candidate)",
        "embedded_soups": soups_summary(load("embedded_soups_h200x2_s4.json"), levers4),
        "compare_threads_session4": compare_threads(),
        "embedded_two_gpus": two_gpus_session6(seeds6),
        "embedded_two_gpus_session3": {
            "recipe": "the recipe committed then, train.gpus 2 (global batch 128 = 64 per GPU) against train.gpus 1, "
            "split + train, the same training seeds; runs shared the GPUs with the levers",
            "seeds": sorted(two3),
            "global_batch": next(
                r["params"]["train"]["batch_size"] for r in levers3 if group_of(r["name"]) == "ctl-gpus2"
            ),
            "one_gpu_val_by_seed": {k: one[k]["best_val_accuracy"] for k in sorted(two3)},
            "two_gpus_val_by_seed": {k: two3[k]["best_val_accuracy"] for k in sorted(two3)},
            "one_gpu_val_mean": round(one_val, 4),
            "two_gpus_val_mean": round(two_val, 4),
            "val_accuracy_gap": round(two_val - one_val, 4),
            "train_examples_per_second_shared": {
                "one_gpu": [one[k]["train_examples_per_second"] for k in sorted(two3)],
                "two_gpus": [two3[k]["train_examples_per_second"] for k in sorted(two3)],
            },
            "session1": {
                "one_gpu": one1,
                "two_gpus": two1,
                "val_accuracy_gap": round(two1["best_val_accuracy"] - one1["best_val_accuracy"], 4),
            },
        },
        "embedded_session2": {
            "runs": win,
            "test_accuracy": mean_sd(accs2),
            "pipeline_seconds_alone": alone["pipeline_seconds"],
        },
        "embedded_fp32_session2": {
            "runs": fp32,
            "test_accuracy": mean_sd([r["test_accuracy"] for r in fp32 if not r["exit_code"]]),
        },
        "embedded_levers_session2": lever_rows2,
        "embedded_committed_recipe_same_code": {
            "note": "session 1's recipe (no label smoothing, no NEFTune) under session 2's code, same seeds",
            "runs": base2,
            "test_accuracy": mean_sd([r["test_accuracy"] for r in base2 if r["exit_code"] == 0]),
        },
        "embedded_session1": {
            "runs": seeds1,
            "test_accuracy": mean_sd([r["test_accuracy"] for r in seeds1]),
            "pipeline_seconds_alone": one1["pipeline_seconds"],
        },
        "embedded_sweep": [
            shared_run(r)
            | {
                "train_examples_per_second_shared": r["runs"]
                .get("train", {})
                .get("cost", {})
                .get("examples_per_second"),
            }
            for r in sweep1
        ],
        "train_step_profile": {
            "what": "SmolLM2-135M shapes, random bf16 weights (= NF4 materialised), LoRA r16 all-linear, batch 128 "
            "(b256: 256); one process, 3 interleaved rounds of 3 untimed + 12 timed steps (right-val: 30 steps, "
            "3 validations + checkpoints); the JSON and the `right` profile were cut off by the call's limit",
            "variants": rounds,
            "profile_old": "train_step_profile_old_h200_s2.txt (torch.profiler, 8 steps)",
        },
        "start_costs": starts,
        "phi2_shapes": {
            "method": bench2["method"],
            "rows": phi2_rows(bench2),
            "two_gpus": {
                "method": "bench/ddp_scaling.py: the train stage at batch 128 per GPU through its train.gpus path, "
                "1 and 2 GPUs alternated over 3 rounds, 12 timed steps after 4; median of the rounds' ratios",
                "speedup": ddp3["speedup"],
                "speedup_rounds": ddp3["speedup_rounds"],
                "rows": [{k: v for k, v in r.items() if k != "stage_run_log"} for r in ddp3["rows"]],
            },
            "two_gpus_session1": {"speedup": ddp["speedup"]}
            | {"rows": [{k: v for k, v in r.items() if k != "stage_run_log"} for r in ddp["rows"]]},
        },  # fmt: skip
        "phi2_shapes_session1": {"method": bench1["method"], "rows": phi2_rows(bench1)},
        "phi2_shapes_session5": {
            "method": bench5["method"],
            "rows": phi2_rows(bench5),
            "note": "report, fast and fast-nocudnn (SDPA's cuDNN backend off) on GPU 1 while the embedded step bench "
            "ran on GPU 0: switching cuDNN attention off changes neither Phi-2 training nor scoring speed",
        },
        "phi2_shapes_session4": {
            "method": bench4["method"],
            "rows": phi2_rows(bench4),
            "note": "report, fast and fast-left only (left padding + mask against right padding): the padding "
            "side changes neither training nor scoring speed",
        },
    }
    s = summary
    e = s["embedded_full"]
    s["met"] = {
        "embedded_pipeline_le_90s": e["pipeline_seconds_alone"] <= TARGETS["embedded_pipeline_seconds_max"],
        "embedded_mean_ge_83.5": e["test_accuracy_mean"] >= TARGETS["embedded_mean_test_accuracy_min_issue25"],
        "embedded_mean_ge_85": e["test_accuracy_mean"] >= TARGETS["embedded_mean_test_accuracy_min_issue27"],
        "embedded_three_seeds": len(accs6) >= 3 or f"only {len(accs6)} seeds scored",
        # session 8's three bench processes: a row within 24 GB at 30x in every process that ran it (more than one)
        "phi2_train_ge_30x_le_24gb": bool(phi2["train_rows_at_30x_in_every_process"]),
        "phi2_eval_ge_1000": all(
            v >= TARGETS["phi2_eval_examples_per_second_min"] for v in phi2["eval_merged_examples_per_second"].values()
        ),
        "phi2_low_mem_ge_2x": all(
            v["train_speedup_vs_report_config"] >= TARGETS["phi2_low_mem_x_report_min"]
            for v in phi2["low_mem_best"].values()
        ),
        "phi2_low_mem_le_2.5gb": all(
            v["peak_allocated_gb"] <= TARGETS["phi2_low_mem_peak_allocated_gb_max"]
            for v in phi2["low_mem_best"].values()
        ),
        "phi2_never_nan": all(r["all_finite"] for p in phi2["processes"].values() for r in p["rows"]),
        "two_gpu_phi2_ge_1.85x": ddp3["speedup"] >= 1.85,
        "two_gpu_embedded_val_within_0.5pt": abs(s["embedded_two_gpus"]["val_accuracy_gap"]) <= 0.005,
    }
    text = json.dumps(summary, indent=1) + "\n"
    if check:
        if (RES / "summary.json").read_text() != text:
            sys.exit(f"{RES / 'summary.json'} differs from what its result files give; run {Path(__file__).name}")
        return
    (RES / "summary.json").write_text(text)
    print(json.dumps(s["met"], indent=1))
    print("embedded mean", e["test_accuracy_mean"], "sd", e["test_accuracy_sd"], accs6)
    for r in lever_rows:
        print(r["lever"], r["val_accuracy_mean"], r["val_accuracy_by_seed"], r["failed"])


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare with the committed summary.json, write nothing")
    main(check=ap.parse_args().check)
