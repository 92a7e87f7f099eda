#!/usr/bin/env python3
"""Template study driver (device side; it ran as .device/tplstudy/driver.py, started by go.sh there, so ROOT is the
repo copy two folders up). Runs repo pipelines (split, evaluate_baseline, train, evaluate_finetuned)
for params_<name>.yaml in private copies of the repo, --jobs at a time, persisting results in /tmp/tpl."""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

T0 = time.time()
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STATE = Path("/tmp/tpl")
OUT = Path(os.environ.get("OUT", "/tmp/tpl/out"))
STAGES = ["split", "evaluate_baseline", "train", "evaluate_finetuned"]


def log(*a):
    print(f"[{time.time() - T0:6.1f}s]", *a, flush=True)


def load_results():
    p = STATE / "results.json"
    return json.loads(p.read_text()) if p.exists() else {}


def save_results(res):
    (STATE / "results.json").write_text(json.dumps(res, indent=1))
    OUT.mkdir(parents=True, exist_ok=True)
    shutil.copy(STATE / "results.json", OUT / "results.json")


def prepare(name):
    wd = STATE / "w" / name
    shutil.rmtree(wd, ignore_errors=True)
    wd.mkdir(parents=True)
    for d in ("scripts", "stages", "src"):
        shutil.copytree(ROOT / d, wd / d, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "dvc.yaml", wd / "dvc.yaml")
    shutil.copytree("/tmp/data", wd / "data/raw/snli")
    shutil.copy(HERE / f"params_{name}.yaml", wd / "params.yaml")
    return wd


def collect(name, wd, code, wall):
    r = {
        "exit_code": code,
        "wall_seconds": round(wall, 1),
        "template": name.split("_")[0],
        "seed": int(name.split("_s")[1]),
    }
    for folder in ("metrics", "runs"):
        for p in sorted((wd / folder).glob("*.json")):
            r[f"{folder}/{p.stem}"] = json.loads(p.read_text())
    return r


def row(name, r):
    def g(k, f):
        return r.get(k, {}).get(f, "")

    return [
        r["template"],
        r["seed"],
        g("metrics/train", "best_val_accuracy"),
        g("metrics/train", "best_val_loss"),
        g("metrics/finetuned", "accuracy"),
        g("metrics/baseline", "accuracy"),
        r.get("runs/train", {}).get("cost", {}).get("train_seconds", ""),
        r["wall_seconds"],
        r["exit_code"],
    ]


def table(res):
    print("template | seed | best_val_acc | best_val_loss | test_acc | baseline_acc | train_s | wall_s | exit")
    for name in sorted(res, key=lambda n: (n.split("_")[0], int(n.split("_s")[1]))):
        print(" | ".join(str(x) for x in row(name, res[name])))
    for t in ("T0", "T1"):
        ok = [r for r in res.values() if r["template"] == t and r["exit_code"] == 0]
        for key, f in (("metrics/train", "best_val_accuracy"), ("metrics/finetuned", "accuracy")):
            v = [r[key][f] for r in ok if f in r.get(key, {})]
            if v:
                sd = statistics.stdev(v) if len(v) > 1 else float("nan")
                print(f"{t} {key}.{f}: n={len(v)} mean={statistics.mean(v):.4f} sd={sd:.4f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--hard", type=float, default=540, help="kill everything at this many seconds")
    ap.add_argument("--est", type=float, default=200, help="initial estimate of one run's wall seconds")
    ap.add_argument("runs", nargs="+")
    a = ap.parse_args()
    STATE.mkdir(parents=True, exist_ok=True)
    (STATE / "logs").mkdir(exist_ok=True)
    res = load_results()
    todo = [n for n in a.runs if res.get(n, {}).get("exit_code") != 0]
    log("todo", todo, "done", sorted(res))
    est, running, walls = a.est, {}, []
    env = dict(
        os.environ,
        SNLI_QLORA_CACHE="/tmp/cache",
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        OMP_NUM_THREADS="2",
        PYTHONUNBUFFERED="1",
    )
    while todo or running:
        now = time.time() - T0
        while todo and len(running) < a.jobs and now + est < a.hard:
            name = todo.pop(0)
            wd = prepare(name)
            e = dict(env, PYTHONPATH=f"/tmp/site:{wd / 'src'}")
            f = open(STATE / "logs" / f"{name}.log", "w")  # noqa: SIM115 (closed when the run ends)
            cmd = [sys.executable, "scripts/run_stages.py", "--no-live", *STAGES]
            if os.environ.get("DRYRUN"):
                cmd = [
                    sys.executable,
                    "-c",
                    "import time,json,os;time.sleep(3);os.makedirs('metrics');"
                    "json.dump({'accuracy':0.5},open('metrics/finetuned.json','w'))",
                ]
            p = subprocess.Popen(cmd, cwd=wd, env=e, stdout=f, stderr=subprocess.STDOUT)
            running[name] = (p, wd, time.time(), f)
            log("start", name)
        if not running:
            log("not starting", todo, f"(est {est:.0f}s would pass the hard limit)")
            break
        if now > a.hard:
            for name, (p, _wd, _t, f) in running.items():
                p.kill()
                p.wait()
                f.close()
                log("KILLED at hard limit", name)
            running = {}
            break
        for name in list(running):
            p, wd, t, f = running[name]
            if p.poll() is not None:
                f.close()
                wall = time.time() - t
                res[name] = collect(name, wd, p.returncode, wall)
                save_results(res)
                if p.returncode == 0:
                    walls.append(wall)
                    est = max(walls) * 1.05
                log("done", name, "exit", p.returncode, f"wall {wall:.0f}s", row(name, res[name]))
                if p.returncode:
                    print((STATE / "logs" / f"{name}.log").read_text()[-3000:])
                del running[name]
        time.sleep(2)
    OUT.mkdir(parents=True, exist_ok=True)
    with tarfile.open(OUT / "logs.tar.gz", "w:gz") as tar:
        tar.add(STATE / "logs", arcname="logs")
    save_results(res)
    table(res)


if __name__ == "__main__":
    main()
