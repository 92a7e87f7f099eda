"""Issue 28's probes (faults and hostile input, round two), grouped by class, run the way a user would.

Each probe sets up one bad input, damaged file or kill, runs the command a user types (a stage, a script) in a
subprocess on the tiny profile and returns a verdict: ``ok`` (one clear ``error:`` line and exit 2, or the right
result), ``silent`` (a wrong result with exit 0), ``lost`` (an output gone), ``traceback``, ``unclear`` (an error
that is not one line naming what was given and the fix) or ``unsafe``. The test asserts ``ok`` for every probe.

The same probes count the verdicts per class on any checkout, so the before/after counts are reproducible:

    PYTHONPATH=src:stages python tests/pipeline/test_faults.py [--root CHECKOUT]

Probes that damage a model cache point SNLI_QLORA_CACHE at their own temporary folder; the shared cache is only read.
"""

from __future__ import annotations

import ast
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from conftest import ROOT, make_pairs, tiny_params, write_jsonl  # noqa: E402

# the checkout whose commands the probes run (this one, unless --root names another)
CODE = Path(os.environ.get("FAULTS_ROOT", ROOT)).resolve()
SCRIPT_TIMEOUT = int(os.environ.get("FAULTS_TIMEOUT", 300))  # seconds a command may take (raise it on a busy machine)


def env(**extra) -> dict:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(CODE / "src"), str(CODE / "stages")]),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        **extra,
    }


@dataclass
class Result:
    rc: int
    stdout: str
    stderr: str


def run(argv, stdin=None, cwd=None, memory_gb: float | None = None, timeout=SCRIPT_TIMEOUT, **extra) -> Result:
    def limit():
        if memory_gb:
            cap = int(memory_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    try:
        raw = subprocess.run(
            [str(a) for a in argv],
            input=stdin.encode() if isinstance(stdin, str) else stdin,
            capture_output=True,
            env=env(**extra),
            cwd=cwd,
            timeout=timeout,
            preexec_fn=limit,
        )
    except subprocess.TimeoutExpired as exc:
        LAST[0] = Result(-9, (exc.stdout or b"").decode(errors="replace"), "Traceback: timed out")
        return LAST[0]
    LAST[0] = Result(raw.returncode, raw.stdout.decode(errors="replace"), raw.stderr.decode(errors="replace"))
    return LAST[0]


LAST: list[Result | None] = [None]  # the latest command's result, shown when a probe fails


def verdict_error(r: Result, *needles: str, wrong: str = "silent") -> str:
    """One clear error: exit 2, exactly one ``error:`` line holding every needle (case-insensitive)."""
    if "Traceback" in r.stderr or r.rc < 0 or r.rc == 1 and not r.stderr.strip():
        return "traceback"
    if r.rc == 0:
        return wrong
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    if r.rc != 2 or len(errors) != 1 or not all(n.lower() in errors[0].lower() for n in needles):
        return "unclear"
    return "ok"


def verdict_ok(r: Result, good: bool, wrong: str = "silent") -> str:
    """A command that should work: exit 0 with the right result."""
    if "Traceback" in r.stderr:
        return "traceback"
    if r.rc == 0:
        return "ok" if good else wrong
    return "unclear" if r.rc == 2 else "traceback"


# ----------------------------------------------------------------------------------------------- workspace


def make_ws(ws: Path) -> Path:
    """Raw data, a split, pairs, params, and adapters for tiny-llama: whole, NaN, truncated, inconsistent."""
    import torch
    from peft import get_peft_model
    from safetensors.torch import load_file, save_file
    from transformers import AutoModelForCausalLM

    from nli.model import sources
    from nli.train import training

    write_jsonl(ws / "raw" / "validation.jsonl", make_pairs(120, seed=1))
    write_jsonl(ws / "raw" / "test.jsonl", make_pairs(60, seed=2))
    for name, n, seed in (("train", 24, 3), ("val", 12, 4), ("test", 12, 5)):
        write_jsonl(
            ws / "split" / f"{name}.jsonl", [dict(r, id=f"{name}-{i}") for i, r in enumerate(make_pairs(n, seed))]
        )
    write_jsonl(ws / "pairs.jsonl", [{k: r[k] for k in ("premise", "hypothesis")} for r in make_pairs(3, seed=9)])
    (ws / "params.yaml").write_text(yaml.safe_dump(tiny_params(), sort_keys=False))
    lora = tiny_params()["lora"]
    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(sources.resolve("tiny-llama"))
    get_peft_model(base, training.lora_config(lora, base)).save_pretrained(ws / "adapter")
    weights = ws / "adapter" / "adapter_model.safetensors"

    def variant(name: str) -> Path:
        shutil.copytree(ws / "adapter", ws / name)
        return ws / name

    tensors = load_file(weights)
    save_file({k: torch.full_like(v, float("nan")) for k, v in tensors.items()}, variant("nan-adapter") / weights.name)
    half = weights.read_bytes()[: weights.stat().st_size // 2]
    (variant("truncated-adapter") / weights.name).write_bytes(half)
    (variant("empty-adapter") / weights.name).write_bytes(b"")
    config = json.loads((ws / "adapter" / "adapter_config.json").read_text())
    (variant("peft-type-adapter") / "adapter_config.json").write_text(json.dumps({**config, "peft_type": "PREFIX"}))
    (variant("rank-adapter") / "adapter_config.json").write_text(json.dumps({**config, "r": config["r"] * 2}))
    kept = dict(list(tensors.items())[: len(tensors) // 2])
    save_file(kept, variant("partial-adapter") / weights.name)
    return ws


def params_with(ws: Path, name: str, text: str | None = None, **overrides) -> Path:
    params = tiny_params()
    for dotted, value in overrides.items():
        *path, key = dotted.split(".")
        section = params
        for part in path:
            section = section[part]
        section[key] = value
    path = ws / f"params-{name}.yaml"
    path.write_text(text if text is not None else yaml.safe_dump(params, sort_keys=False))
    return path


def script(name: str) -> Path:
    return CODE / name


def predict(ws: Path, *args, params: Path | None = None, adapter: str | None = None, **kw) -> Result:
    argv = [sys.executable, script("scripts/predict.py"), "--params", params or ws / "params.yaml"]
    argv += ["--adapter", adapter if adapter is not None else ws / "adapter", *args]
    return run(argv, **kw)


def evaluate(ws: Path, *args, params: Path | None = None, test: Path | None = None, out: str = "eval", **kw):
    o = ws / out
    argv = [sys.executable, script("stages/evaluate.py"), "--params", params or ws / "params.yaml"]
    argv += ["--test", test or ws / "split/test.jsonl", "--predictions", o / "pred.csv", "--confusion", o / "c.csv"]
    argv += ["--metrics", o / "m.json", "--run-log", o / "run.json", *args]
    return run(argv, **kw)


def split(ws: Path, raw: Path, *args, params: Path | None = None, out: str = "split-out", **kw) -> Result:
    o = ws / out
    argv = [sys.executable, script("stages/split.py"), "--params", params or ws / "params.yaml", "--raw", raw]
    argv += ["--out-dir", o / "split", "--metrics", o / "data.json", "--run-log", o / "run.json", *args]
    return run(argv, **kw)


def train(ws: Path, train_file: Path, val_file: Path, *args, params: Path | None = None, out="train-out", **kw):
    o = ws / out
    argv = [sys.executable, script("stages/train.py"), "--params", params or ws / "params.yaml"]
    argv += ["--train", train_file, "--val", val_file, "--adapter-dir", o / "adapter", "--metrics", o / "m.json"]
    argv += ["--run-log", o / "run.json", "--live-dir", "", "--checkpoints", o / "ckpt", *args]
    return run(argv, **kw)


def merge(ws: Path, *args, adapter: Path | None = None, **kw) -> Result:
    argv = [sys.executable, script("scripts/merge_adapter.py"), "--params", ws / "params.yaml"]
    argv += ["--adapter", adapter or ws / "adapter", "--sample", ws / "pairs.jsonl", *args]
    return run(argv, **kw)


def raw_with(ws: Path, name: str, extra_line: str | bytes, drop_label: int | None = None) -> Path:
    raw = ws / f"raw-{name}"
    shutil.copytree(ws / "raw", raw)
    if drop_label is not None:  # keep one member of this label only
        rows = [r for r in make_pairs(120, seed=1) if r["label"] != drop_label]
        write_jsonl(raw / "validation.jsonl", rows)
    with open(raw / "validation.jsonl", "ab") as f:
        f.write(extra_line if isinstance(extra_line, bytes) else extra_line.encode())
    return raw


def lines(text: str) -> list:
    try:
        return [json.loads(line) for line in text.splitlines()]
    except ValueError:
        return []


def valid_output(text: str, n: int) -> bool:
    """``n`` labelled JSON lines (strict JSON: a bare NaN is not valid) with finite probabilities."""
    try:
        rows = [
            json.loads(line, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
            for line in text.split("\n")
            if line
        ]
    except ValueError:
        return False
    return len(rows) == n and all("predicted" in r for r in rows)


P_COLUMN = '{"premise": "a", "hypothesis": "b", "p_neutral": 1}\n'
DEEP = '{"premise": ' + "[" * 10000 + "]" * 10000 + ', "hypothesis": "x"}\n'
SURROGATE_PAIR = '{"premise": "A man \\ud800 sleeps.", "hypothesis": "A man rests."}\n'


# ----------------------------------------------------------------------------------------------- probes
# Each probe: (class, id, function(ws) -> verdict). The class is the heading it was derived from.


def p_nan_predict(ws):
    r = predict(ws, "--input", ws / "pairs.jsonl", adapter=ws / "nan-adapter")
    return verdict_error(r, "non-finite", "nan-adapter")


def p_nan_evaluate(ws):
    return verdict_error(evaluate(ws, "--adapter", ws / "nan-adapter", out="eval-nan"), "non-finite", "nan-adapter")


def p_batch(size):
    def probe(ws):
        return verdict_error(predict(ws, "--input", ws / "pairs.jsonl", "--batch-size", size), "--batch-size")

    return probe


def p_truncation(ws):
    long = [{"premise": f"A man {'walks and talks ' * 200}{tail}.", "hypothesis": "A man moves."} for tail in "ab"]
    write_jsonl(ws / "long.jsonl", long)
    r = predict(ws, "--input", ws / "long.jsonl")
    if r.rc == 2:
        return verdict_error(r, "max_length")
    return verdict_ok(r, "truncat" in r.stderr.lower() and "2 of 2" in r.stderr and valid_output(r.stdout, 2))


def p_output_fd_link(ws):
    """--output a symlink to a special file (what /dev/stdout is): written through, printed."""
    link = ws / "stdout-link"
    link.unlink(missing_ok=True)
    link.symlink_to("/proc/self/fd/1")
    r = predict(ws, "--input", ws / "pairs.jsonl", "--output", link)
    return verdict_ok(r, valid_output(r.stdout, 3) and link.is_symlink())


def p_output_symlink(ws):
    target, link = ws / "target.jsonl", ws / "link.jsonl"
    target.write_text("old\n")
    link.unlink(missing_ok=True)
    link.symlink_to(target)
    r = predict(ws, "--input", ws / "pairs.jsonl", "--output", link)
    return verdict_ok(r, link.is_symlink() and valid_output(target.read_text(), 3))


def p_input_file(name: str, content: str, *needles: str):
    def probe(ws):
        (ws / name).write_text(content)
        r = predict(ws, "--input", ws / name)
        return verdict_error(r, str(ws / name), *needles)

    return probe


def p_duplicate_key(ws):
    text = (ws / "params.yaml").read_text() + "seed: 7\n"
    path = params_with(ws, "dup", text)
    return verdict_error(predict(ws, "--input", ws / "pairs.jsonl", params=path), str(path), "seed", "duplicate")


def p_duplicate_nested_key(ws):
    text = (ws / "params.yaml").read_text().replace("  batch_size: 8\n", "  batch_size: 8\n  batch_size: 4\n", 1)
    path = params_with(ws, "dup-nested", text)
    return verdict_error(predict(ws, "--input", ws / "pairs.jsonl", params=path), str(path), "batch_size", "duplicate")


def p_merge_flag(flag: str, value: str, wrong: str = "silent"):
    def probe(ws):
        out = ws / f"merged-{flag}-{value}"
        r = merge(ws, "--out", out, flag, value)
        return verdict_error(r, flag, wrong=wrong)

    return probe


def p_package_missing_metrics(ws):
    out = ws / "package"
    argv = [sys.executable, script("stages/package.py"), "--params", ws / "params.yaml", "--adapter", ws / "adapter"]
    argv += ["--data-metrics", ws / "no-data.json", "--finetuned-metrics", ws / "no-ft.json"]
    argv += ["--out", out]
    return verdict_error(run(argv), "no-data.json")


def p_raw_surrogate(ws):
    raw = raw_with(ws, "surrogate", '{"premise": "A \\udc80 man.", "hypothesis": "A man.", "label": 0}\n')
    return verdict_error(split(ws, raw), "validation.jsonl:121", "surrogate")


def p_predict_surrogate(ws):
    (ws / "sur.jsonl").write_text(SURROGATE_PAIR)
    return verdict_error(predict(ws, "--input", ws / "sur.jsonl"), "sur.jsonl:1", "surrogate")


SWAP_CHILD = r"""
import os, signal, sys
from pathlib import Path
from nli.core import files
target, kill_at = Path(sys.argv[1]), int(sys.argv[2])
if sys.argv[3] == "fallback":  # as on a file system without renameat2's exchange: two renames
    files._exchange = lambda a, b: False
EVENTS = {"os.rename", "os.mkdir", "tempfile.mkdtemp", "shutil.rmtree", "os.remove", "os.rmdir", "os.chmod",
          "ctypes.call_function", "os.unlink"}
seen = [0]
def hook(event, args):
    if event in EVENTS:
        seen[0] += 1
        if seen[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
with files.atomic_dir(target) as tmp:
    (tmp / "data.txt").write_text("new")
    sys.addaudithook(hook)  # from here on: the swap itself
"""

RECOVER_CHILD = r"""
import sys
from pathlib import Path
from nli.core import files
try:
    with files.atomic_dir(Path(sys.argv[1])):  # the next run, failing at once: it must still restore the old output
        raise RuntimeError("next run fails")
except RuntimeError:
    pass
"""


def p_swap_kill(kill_at: int, mode: str = "exchange"):
    def probe(ws):
        target = ws / f"swap-{mode}-{kill_at}" / "out"
        target.mkdir(parents=True)
        (target / "data.txt").write_text("old")
        r = run([sys.executable, "-c", SWAP_CHILD, target, kill_at, mode])
        if r.rc not in (0, -9):
            return "traceback"

        def state():
            f = target / "data.txt"
            return f.read_text() if f.is_file() else None

        if state() in ("old", "new"):
            return "ok"
        run([sys.executable, "-c", RECOVER_CHILD, target])
        return "ok" if state() in ("old", "new") else "lost"

    return probe


def p_merge_out_nonempty(ws):
    out = ws / "merge-into"
    out.mkdir()
    (out / "thesis.tex").write_text("keep me")
    r = merge(ws, "--out", out)
    if (out / "thesis.tex").is_file() and r.rc == 2:
        return verdict_error(r, str(out))
    return "lost" if not (out / "thesis.tex").is_file() else verdict_error(r, str(out))


def p_merge_out_adapter(ws):
    adapter = ws / "adapter-copy"
    shutil.copytree(ws / "adapter", adapter)
    r = merge(ws, "--out", adapter, adapter=adapter)
    if not (adapter / "adapter_model.safetensors").is_file():
        return "lost"
    return verdict_error(r, "--out")


def p_adapter(name: str, *needles: str, where: str = "predict", wrong: str = "silent"):
    def probe(ws):
        if where == "predict":
            r = predict(ws, "--input", ws / "pairs.jsonl", adapter=ws / name)
        else:
            r = evaluate(ws, "--adapter", ws / name, out=f"eval-{name}")
        return verdict_error(r, str(ws / name), *needles, wrong=wrong)

    return probe


def tmp_cache(ws: Path, name: str) -> Path:
    cache = ws / f"cache-{name}"
    shutil.copytree(Path(_shared_cache()) / _tiny_folder(), cache / _tiny_folder())
    return cache


def _shared_cache() -> str:
    return os.environ.get("SNLI_QLORA_CACHE", str(Path.home() / ".cache" / "snli-qlora"))


def _tiny_folder() -> str:
    from nli.model import sources

    return Path(sources.resolve("tiny-llama")).name


def p_cache_damage(kind: str):
    """A damaged cache folder: the next predict rebuilds it (or names the command that does)."""

    def probe(ws):
        cache = tmp_cache(ws, kind)
        r = predict(ws, "--input", ws / "pairs.jsonl", SNLI_QLORA_CACHE=str(cache))  # builds the NF4 cache there
        if r.rc != 0:
            return verdict_ok(r, False)
        model = cache / _tiny_folder()
        nf4 = next(p for p in cache.iterdir() if "nf4-rounded" in p.name)
        if kind == "model-truncated":
            f = model / "model.safetensors"
            f.write_bytes(f.read_bytes()[: f.stat().st_size // 3])
        elif kind == "model-empty-folder":
            shutil.rmtree(model)
            model.mkdir()
        elif kind == "nf4-truncated":
            f = next(nf4.glob("*.safetensors"))
            f.write_bytes(f.read_bytes()[:100])
        elif kind == "nf4-empty-file":
            next(nf4.glob("*.safetensors")).write_bytes(b"")
        elif kind == "tokenizer-truncated":
            f = model / "tokenizer.json"
            f.write_text(f.read_text()[:50])
        r = predict(ws, "--input", ws / "pairs.jsonl", SNLI_QLORA_CACHE=str(cache))
        if r.rc == 2:
            return verdict_error(r, "rebuild")
        return verdict_ok(r, valid_output(r.stdout, 3))

    return probe


def p_cache_is_file(ws):
    (ws / "cache-file").write_text("not a folder")
    r = predict(ws, "--input", ws / "pairs.jsonl", SNLI_QLORA_CACHE=str(ws / "cache-file"))
    return verdict_error(r, "SNLI_QLORA_CACHE")


def p_user_model_truncated(ws):
    from nli.model import sources

    folder = ws / "my-model"
    shutil.copytree(sources.resolve("tiny-llama"), folder)
    f = folder / "model.safetensors"
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    params = params_with(ws, "user-model", **{"model.name": str(folder), "model.quantization.load_in_4bit": False})
    return verdict_error(predict(ws, "--input", ws / "pairs.jsonl", params=params, adapter=""), str(f))


def p_partial_checkpoint(ws):
    """A kill while a checkpoint was being written leaves a folder without trainer_state.json: skipped."""
    from nli.core import config
    from nli.train import training

    out = "train-partial"
    sections = ["model", "prompt", "train", "lora"]  # the train stage's run folder, as it derives it
    params = config.load(ws / "params.yaml", sections)
    fp = training.fingerprint(params, sections, [str(ws / "split/train.jsonl"), str(ws / "split/val.jsonl")])
    partial = ws / out / "ckpt" / f"train-{fp}" / "checkpoint-4"
    partial.mkdir(parents=True)
    shutil.copy(ws / "adapter" / "adapter_model.safetensors", partial)
    r = train(ws, ws / "split/train.jsonl", ws / "split/val.jsonl", out=out)
    good = (ws / out / "adapter" / "adapter_model.safetensors").is_file() and "checkpoint-4" in r.stderr
    return verdict_ok(r, good)


def p_empty_split(which: str):
    def probe(ws):
        empty = ws / f"empty-{which}.jsonl"
        empty.write_text("")
        if which == "test":
            return verdict_error(evaluate(ws, test=empty, out="eval-empty"), str(empty))
        files = {"train": ws / "split/train.jsonl", "val": ws / "split/val.jsonl", which: empty}
        return verdict_error(train(ws, files["train"], files["val"], out=f"train-empty-{which}"), str(empty))

    return probe


def p_one_member_label(ws):
    raw = raw_with(ws, "one-member", '{"premise": "A lone cat naps.", "hypothesis": "No cat.", "label": 2}\n', 2)
    params = params_with(ws, "one-member", **{"split.val_size": 12, "split.train_size": 24})
    return verdict_error(split(ws, raw, params=params, out="split-one"), "contradiction")


def p_huge_batch(where: str):
    def probe(ws):
        if where == "predict":
            r = predict(ws, "--input", ws / "pairs.jsonl", "--batch-size", str(10**19))
        elif where == "evaluate":
            params = params_with(ws, "huge-eval", **{"evaluate.batch_size": 10**19})
            r = evaluate(ws, params=params, out="eval-huge")
        else:
            params = params_with(ws, "huge-train", **{"train.batch_size": 10**19})
            r = train(ws, ws / "split/train.jsonl", ws / "split/val.jsonl", params=params, out="train-huge")
        if r.rc == 0:
            return verdict_ok(r, True)
        return verdict_error(r, "batch")

    return probe


def p_deep_json(where: str):
    def probe(ws):
        if where == "predict":
            (ws / "deep.jsonl").write_text(DEEP)
            return verdict_error(predict(ws, "--input", ws / "deep.jsonl"), "deep.jsonl:1")
        raw = raw_with(ws, "deep", DEEP)
        return verdict_error(split(ws, raw, out="split-deep"), "validation.jsonl:121")

    return probe


def p_output_folder(where: str):
    def probe(ws):
        folder = ws / f"out-folder-{where}"
        folder.mkdir(exist_ok=True)
        if where == "predict":
            return verdict_error(predict(ws, "--input", ws / "pairs.jsonl", "--output", folder), str(folder))
        o = ws / "eval-folder"
        argv = [sys.executable, script("stages/evaluate.py"), "--params", ws / "params.yaml"]
        argv += ["--test", ws / "split/test.jsonl", "--predictions", o / "p.csv", "--confusion", o / "c.csv"]
        argv += ["--metrics", folder, "--run-log", o / "run.json"]
        return verdict_error(run(argv), str(folder))

    return probe


def p_closed_stdout(ws):
    argv = [sys.executable, script("scripts/predict.py"), "--params", ws / "params.yaml", "--adapter", ws / "adapter"]
    argv += ["--input", ws / "pairs.jsonl"]
    proc = subprocess.Popen([str(a) for a in argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
    proc.stdout.close()  # the reader went away (`predict | head -0`)
    _, err = proc.communicate(timeout=SCRIPT_TIMEOUT)
    return "traceback" if b"Traceback" in err else "ok"


def p_path_is_folder(what: str):
    def probe(ws):
        if what == "params":
            return verdict_error(predict(ws, "--input", ws / "pairs.jsonl", params=ws / "split"), "folder")
        if what == "input":
            return verdict_error(predict(ws, "--input", ws / "split"), str(ws / "split"), "folder")
        if what == "test":
            return verdict_error(evaluate(ws, test=ws / "split", out="eval-testdir"), str(ws / "split"), "folder")
        return verdict_error(predict(ws, "--input", ws / "pairs.jsonl", adapter=ws / "pairs.jsonl"), "not a folder")

    return probe


def p_alias_bomb(ws):
    """A 1 KB value that expands to 9**9 items: anchors defined inside the value of a known key."""
    chain = ["&a [x, x, x, x, x, x, x, x, x]"]
    chain += [f"&{n} [{', '.join([f'*{p}'] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi")]
    text = yaml.safe_dump(tiny_params(), sort_keys=False).replace(
        "  train_size: 48", f"  train_size: [{', '.join(chain)}]"
    )
    path = params_with(ws, "bomb", text)
    r = split(ws, ws / "raw", params=path, out="split-bomb", memory_gb=3, timeout=120)
    return verdict_error(r, str(path))


def p_stream(ws):
    good = '{"premise": "A man sleeps.", "hypothesis": "A man rests."}\n'
    stdin = good + SURROGATE_PAIR + DEEP + "[1, 2]\n" + "NaN\n" + '{"premise": "\\u0000", "hypothesis": "x"}\n' + good
    r = predict(ws, "--stream", stdin=stdin)
    rows = lines(r.stdout)
    good_rows = len(rows) == 7 and "predicted" in rows[0] and "predicted" in rows[-1]
    errors = all("error" in row for row in rows[1:5]) if good_rows else False
    return verdict_ok(r, good_rows and errors, wrong="traceback")


def p_remote_code(ws):
    """Every ``Auto*.from_pretrained`` passes trust_remote_code=False explicitly."""
    bad = []
    for path in [*CODE.glob("src/nli/**/*.py"), *CODE.glob("scripts/*.py"), *CODE.glob("stages/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = node.func.value
            if node.func.attr != "from_pretrained" or not (isinstance(owner, ast.Name) and owner.id.startswith("Auto")):
                continue
            kw = {k.arg: k.value for k in node.keywords}
            value = kw.get("trust_remote_code")
            if not (isinstance(value, ast.Constant) and value.value is False):
                bad.append(f"{path.relative_to(CODE)}:{node.lineno}")
    return "ok" if not bad else "unsafe"


def p_params_named(what: str):
    def probe(ws):
        if what == "verbalizers":
            same = tiny_params()["prompt"]["verbalizers"]["entailment"]
            params = params_with(ws, "other", **{"prompt.verbalizers.neutral": same})
        elif what == "device":
            params = params_with(ws, "other-device", **{"model.device": "cuda"})
            if _has_cuda():
                return "ok"
        else:
            params = params_with(ws, "other-model", **{"model.name": "tiny-lama"})
        return verdict_error(predict(ws, "--input", ws / "pairs.jsonl", params=params), str(params), wrong="silent")

    return probe


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def p_rank_adapter(ws):
    r = predict(ws, "--input", ws / "pairs.jsonl", adapter=ws / "rank-adapter")
    v = verdict_error(r, "rank-adapter", "adapter_config.json")
    return "unclear" if v == "ok" and "another base model" in r.stderr else v


def p_merge_bad_flag(ws):
    return verdict_error(merge(ws, "--out", ws / "merged-x", "--check-n", "abc"), "--check-n")


def p_run_stages_unknown(ws):
    r = run([sys.executable, script("scripts/run_stages.py"), "no-such-stage"], cwd=CODE)
    return verdict_error(r, "no-such-stage")


PROBES = [
    ("silent", "nan-adapter-predict", p_nan_predict),
    ("silent", "nan-adapter-evaluate", p_nan_evaluate),
    ("silent", "predict-batch-size--1", p_batch("-1")),
    ("silent", "predict-batch-size-0", p_batch("0")),
    ("silent", "truncated-premise-counted", p_truncation),
    ("silent", "output-special-file-link", p_output_fd_link),
    ("silent", "output-symlink", p_output_symlink),
    ("silent", "csv-predicted-column", p_input_file("pred.csv", "premise,hypothesis,predicted\na,b,x\n", "predicted")),
    (
        "silent",
        "jsonl-p-column",
        p_input_file("p.jsonl", '{"premise": "a", "hypothesis": "b", "p_neutral": 1}\n', "p_neutral"),
    ),
    ("silent", "csv-two-premise-columns", p_input_file("two.csv", "premise,hypothesis,premise\na,b,c\n", "premise")),
    ("silent", "params-duplicate-key", p_duplicate_key),
    ("silent", "params-duplicate-nested-key", p_duplicate_nested_key),
    ("silent", "merge-min-agreement-nan", p_merge_flag("--min-agreement", "nan")),
    ("silent", "merge-min-agreement-2", p_merge_flag("--min-agreement", "2")),
    ("silent", "merge-check-n-0", p_merge_flag("--check-n", "0")),
    ("silent", "package-missing-metrics", p_package_missing_metrics),
    ("silent", "raw-lone-surrogate", p_raw_surrogate),
    ("silent", "predict-lone-surrogate", p_predict_surrogate),
    *(("lost", f"kill-9-in-swap-{n}", p_swap_kill(n)) for n in range(1, 7)),
    *(("lost", f"kill-9-in-swap-fallback-{n}", p_swap_kill(n, "fallback")) for n in range(1, 7)),
    ("lost", "merge-out-nonempty-folder", p_merge_out_nonempty),
    ("lost", "merge-out-is-adapter", p_merge_out_adapter),
    ("traceback", "adapter-truncated-safetensors", p_adapter("truncated-adapter", "adapter_model.safetensors")),
    ("traceback", "adapter-empty-safetensors", p_adapter("empty-adapter", "adapter_model.safetensors", where="eval")),
    ("traceback", "adapter-wrong-peft-type", p_adapter("peft-type-adapter", "peft_type")),
    ("traceback", "adapter-missing-tensors", p_adapter("partial-adapter", "missing")),
    ("traceback", "cache-model-truncated", p_cache_damage("model-truncated")),
    ("traceback", "cache-model-empty-folder", p_cache_damage("model-empty-folder")),
    ("traceback", "cache-tokenizer-truncated", p_cache_damage("tokenizer-truncated")),
    ("traceback", "cache-nf4-truncated", p_cache_damage("nf4-truncated")),
    ("traceback", "cache-nf4-empty-file", p_cache_damage("nf4-empty-file")),
    ("traceback", "cache-env-is-a-file", p_cache_is_file),
    ("traceback", "model-folder-truncated", p_user_model_truncated),
    ("traceback", "partial-checkpoint", p_partial_checkpoint),
    ("traceback", "empty-train-split", p_empty_split("train")),
    ("traceback", "empty-val-split", p_empty_split("val")),
    ("traceback", "empty-test-split", p_empty_split("test")),
    ("traceback", "label-with-one-member", p_one_member_label),
    ("traceback", "huge-batch-predict", p_huge_batch("predict")),
    ("traceback", "huge-batch-evaluate", p_huge_batch("evaluate")),
    ("traceback", "huge-batch-train", p_huge_batch("train")),
    ("traceback", "deep-json-predict", p_deep_json("predict")),
    ("traceback", "deep-json-raw", p_deep_json("raw")),
    ("traceback", "output-is-folder-predict", p_output_folder("predict")),
    ("traceback", "output-is-folder-evaluate", p_output_folder("evaluate")),
    ("traceback", "closed-stdout-pipe", p_closed_stdout),
    ("traceback", "params-is-folder", p_path_is_folder("params")),
    ("security", "params-alias-bomb", p_alias_bomb),
    ("security", "stream-survives-hostile-lines", p_stream),
    ("security", "from-pretrained-remote-code-off", p_remote_code),
    ("unclear", "params-named-verbalizers", p_params_named("verbalizers")),
    ("unclear", "params-named-model", p_params_named("model")),
    ("unclear", "params-named-device", p_params_named("device")),
    ("unclear", "adapter-config-disagrees", p_rank_adapter),
    ("unclear", "input-is-folder", p_path_is_folder("input")),
    ("unclear", "test-split-is-folder", p_path_is_folder("test")),
    ("unclear", "adapter-is-a-file", p_path_is_folder("adapter")),
    ("unclear", "merge-flag-not-a-number", p_merge_bad_flag),
    ("unclear", "run-stages-unknown-stage-exit-2", p_run_stages_unknown),
]


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    return make_ws(tmp_path_factory.mktemp("faults"))


@pytest.mark.parametrize("probe", PROBES, ids=[f"{c}-{i}" for c, i, _ in PROBES])
def test_fault_probe(ws, probe):
    klass, name, fn = probe
    verdict = fn(ws)
    last = LAST[0]
    assert verdict == "ok", f"{klass} probe {name}: {verdict}; last command: {last and (last.rc, last.stderr[-2000:])}"


def main() -> None:
    import argparse

    global CODE
    ap = argparse.ArgumentParser(description="count the probes' verdicts per class on a checkout")
    ap.add_argument("--root", default=str(ROOT), help="the checkout whose scripts run (default: this one)")
    ap.add_argument("-k", default="", help="only probes whose id contains one of these (comma-separated)")
    ap.add_argument("--shard", default="0/1", help="i/n: run every n-th probe from the i-th (to split a run)")
    ap.add_argument("-v", "--verbose", action="store_true", help="show the last command's stderr of a failed probe")
    args = ap.parse_args()
    CODE = Path(args.root).resolve()
    table: dict[str, Counter] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ws = make_ws(Path(tmp))
        shard, shards = map(int, args.shard.split("/"))
        for index, (klass, name, fn) in enumerate(PROBES):
            if not any(k in name for k in args.k.split(",")) or index % shards != shard:
                continue
            verdict = fn(ws)
            table.setdefault(klass, Counter())[verdict] += 1
            print(f"{klass:9s} {name:40s} {verdict}", flush=True)
            if args.verbose and verdict != "ok" and LAST[0]:
                print(f"    exit {LAST[0].rc}: {LAST[0].stderr[-1500:]}", flush=True)
    kinds = ["ok", "silent", "lost", "traceback", "unclear", "unsafe"]
    print(f"\n{'class':9s} " + " ".join(f"{k:>9s}" for k in kinds))
    for klass, counts in table.items():
        print(f"{klass:9s} " + " ".join(f"{counts[k]:9d}" for k in kinds))
    total = sum(table.values(), Counter())
    print(f"{'total':9s} " + " ".join(f"{total[k]:9d}" for k in kinds))


if __name__ == "__main__":
    main()
