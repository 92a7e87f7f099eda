"""Issue 10's probes, run the way a user would: each bad input is one `error:` line, exit 2, no traceback.

Every probe runs a stage script or a user script in a subprocess on the tiny profile and checks the
exit status, that stderr holds exactly one line starting with `error:` naming the file/line/param and
the fix, and that no traceback was printed. Disk-full probes mount a small tmpfs in a private mount
namespace (`unshare -rm`); where that is not allowed they are skipped (tests/test_data.py covers the
atomic split folder in-process).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, make_pairs, tiny_params, write_jsonl

ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "stages")]),
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
}


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    """Raw data, a split, an adapter for tiny-llama and one for a llama of other sizes."""
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, LlamaConfig

    from nli.model import sources
    from nli.train import training

    ws = tmp_path_factory.mktemp("probes")
    write_jsonl(ws / "raw" / "validation.jsonl", make_pairs(120, seed=1))
    write_jsonl(ws / "raw" / "test.jsonl", make_pairs(60, seed=2))
    for name, n, seed in (("train", 24, 3), ("val", 12, 4), ("test", 12, 5)):
        write_jsonl(
            ws / "split" / f"{name}.jsonl", [dict(r, id=f"{name}-{i}") for i, r in enumerate(make_pairs(n, seed))]
        )
    write_jsonl(ws / "pairs.jsonl", [{k: r[k] for k in ("premise", "hypothesis")} for r in make_pairs(3, seed=9)])
    lora = tiny_params()["lora"]
    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(sources.resolve("tiny-llama"))
    get_peft_model(base, training.lora_config(lora, base)).save_pretrained(ws / "adapter")
    other = AutoModelForCausalLM.from_config(
        LlamaConfig(
            vocab_size=base.config.vocab_size,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
        )
    )
    get_peft_model(other, training.lora_config(lora, other)).save_pretrained(ws / "other-adapter")
    return ws


def params_with(ws: Path, name: str, **overrides) -> Path:
    """The tiny profile with dotted overrides (``model.quantization.quant_type="nf5"``)."""
    params = tiny_params()
    for dotted, value in overrides.items():
        *path, key = dotted.split(".")
        section = params
        for part in path:
            section = section[part]
        section[key] = value
    path = ws / f"params-{name}.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


def cmd(ws: Path, script: str, params: Path, *args: str) -> list[str]:
    base = [sys.executable, str(ROOT / script), "--params", str(params)]
    if script == "stages/split.py":
        return base + [
            "--raw",
            str(ws / "raw"),
            "--out-dir",
            str(ws / "out" / "split"),
            "--metrics",
            str(ws / "out" / "data.json"),
            "--run-log",
            str(ws / "out" / "split.json"),
            *args,
        ]
    if script == "stages/train.py":
        return base + [
            "--train",
            str(ws / "split/train.jsonl"),
            "--val",
            str(ws / "split/val.jsonl"),
            "--adapter-dir",
            str(ws / "out" / "adapter"),
            "--metrics",
            str(ws / "out" / "train.json"),
            "--run-log",
            str(ws / "out" / "train_run.json"),
            "--live-dir",
            "",
            "--checkpoints",
            str(ws / "out" / "ckpt"),
            *args,
        ]
    if script == "stages/evaluate.py":
        return base + [
            "--test",
            str(ws / "split/test.jsonl"),
            "--predictions",
            str(ws / "out" / "pred.csv"),
            "--confusion",
            str(ws / "out" / "conf.csv"),
            "--metrics",
            str(ws / "out" / "m.json"),
            "--run-log",
            str(ws / "out" / "eval_run.json"),
            *args,
        ]
    return base + list(args)


def assert_one_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode == 2, (result.returncode, result.stderr[-3000:])
    assert len(errors) == 1, result.stderr[-3000:]
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def run(argv: list[str], stdin: str | bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    raw = subprocess.run(
        argv,
        input=stdin.encode() if isinstance(stdin, str) else stdin,
        capture_output=True,
        env=ENV,
        cwd=cwd,
        timeout=300,
    )
    return subprocess.CompletedProcess(
        raw.args, raw.returncode, raw.stdout.decode(errors="replace"), raw.stderr.decode(errors="replace")
    )


# (probe id, script, param overrides, extra args, stdin, expected fragments of the one error line)
PARAM_PROBES = [
    ("lr-nan", "stages/train.py", {"train.lr": float("nan")}, "train.lr = nan is not a finite number"),
    ("lr-inf", "stages/train.py", {"train.lr": float("inf")}, "train.lr = inf is not a finite number"),
    ("scheduler-typo", "stages/train.py", {"train.lr_scheduler": "cosinus"}, "train.lr_scheduler = 'cosinus'"),
    ("optim-typo", "stages/train.py", {"train.optim": "adamz"}, "train.optim = 'adamz' is not allowed"),
    ("quant-nf5", "stages/train.py", {"model.quantization.quant_type": "nf5"}, "quant_type = 'nf5'"),
    ("double-qunt", "stages/train.py", {"model.quantization.double_qunt": True}, "unknown key(s) double_qunt"),
    ("4bit-string", "stages/train.py", {"model.quantization.load_in_4bit": "false"}, "must be true or false"),
    ("warmup-2", "stages/train.py", {"train.warmup_ratio": 2.0}, "train.warmup_ratio = 2.0 is out of range"),
    ("epochs-0", "stages/train.py", {"train.epochs": 0, "train.max_steps": -1}, "trains nothing"),
    ("epochs-neg", "stages/train.py", {"train.epochs": -1}, "train.epochs = -1 is out of range"),
    ("train-seed-neg", "stages/train.py", {"train.seed": -1}, "train.seed = -1 is out of range"),
    ("template-brace", "stages/train.py", {"prompt.template": "P: {premise} H: {hypothesis} {"}, "Single '{'"),
    ("model-etc", "stages/train.py", {"model.name": "/etc"}, "model.name = '/etc' is a folder without config.json"),
    ("max-length-4", "stages/train.py", {"prompt.max_length": 4}, "prompt.max_length = 4 is out of range"),
    ("max-length-12", "stages/train.py", {"prompt.max_length": 12}, "prompt.max_length = 12 but the template alone"),
    ("max-length-eval", "stages/evaluate.py", {"prompt.max_length": 12}, "the template alone is"),
    ("val-size-2", "stages/split.py", {"split.val_size": 2}, "split.val_size = 2 is out of range"),
    ("predict-device-typo", "scripts/predict.py", {"model.device": "gpu"}, "model.device = 'gpu' is not allowed"),
]


@pytest.mark.parametrize("probe", PARAM_PROBES, ids=[p[0] for p in PARAM_PROBES])
def test_bad_params(ws, probe):
    name, script, overrides, message = probe
    params = params_with(ws, name, **overrides)
    result = run(cmd(ws, script, params))
    assert_one_error(result, str(params), message)


def predict(ws: Path, *args: str, stdin=None, adapter: str | None = None) -> subprocess.CompletedProcess:
    adapter = str(ws / "adapter") if adapter is None else adapter
    return run(cmd(ws, "scripts/predict.py", params_with(ws, "plain"), "--adapter", adapter, *args), stdin=stdin)


def test_predict_reads_good_input(ws):
    """The baseline for the probes below: the same command with good input works."""
    result = predict(ws, "--input", str(ws / "pairs.jsonl"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(result.stdout.splitlines()) == 3


INPUT_PROBES = [
    ("stdin-bad-json", "-", '{"premise": "a", "hypothesis": "b"}\n{"premise": \n', "<stdin>:2: malformed JSON"),
    ("empty-jsonl", "empty.jsonl", b"", "no pairs found"),
    ("empty-csv", "empty.csv", b"", "no pairs found"),
    ("header-only-csv", "header.csv", b"premise,hypothesis\n", "no pairs found"),
    ("csv-unclosed-quote", "bad.csv", b'premise,hypothesis\n"A man sleeps.,A man naps.\n', "bad.csv:"),
    ("number-and-null", "types.jsonl", b'{"premise": 5, "hypothesis": null}\n', "types.jsonl:1: field 'premise' is 5"),
    ("null-hypothesis", "null.jsonl", b'{"premise": "A man.", "hypothesis": null}\n', "null.jsonl:1: field 'hyp"),
    ("non-utf8-jsonl", "latin1.jsonl", b'{"premise": "caf\xe9", "hypothesis": "x"}\n', "latin1.jsonl:1: not UTF-8"),
    ("non-utf8-csv", "latin1.csv", b"premise,hypothesis\nok,ok\ncaf\xe9,x\n", "latin1.csv:3: not UTF-8"),
    ("non-utf8-stdin", "-", b'{"premise": "caf\xe9", "hypothesis": "x"}\n', "<stdin>:1: not UTF-8"),
]


@pytest.mark.parametrize("probe", INPUT_PROBES, ids=[p[0] for p in INPUT_PROBES])
def test_predict_bad_input(ws, probe):
    name, file, content, message = probe
    if file == "-":
        result = predict(ws, "--input", "-", stdin=content)
    else:
        (ws / file).write_bytes(content)
        result = predict(ws, "--input", str(ws / file))
    assert_one_error(result, message)
    assert result.stdout == ""  # nothing scored


ADAPTER_PROBES = [
    ("missing", lambda ws: str(ws / "no-such-adapter"), "not found"),
    ("mistyped-relative", lambda ws: "models/adaptr", "adapter folder 'models/adaptr' not found"),
    ("hub-like", lambda ws: "someone/adapter", "adapter folder 'someone/adapter' not found"),
    ("not-an-adapter", lambda ws: str(ws / "split"), "is not a PEFT adapter folder"),
    ("other-base", lambda ws: str(ws / "other-adapter"), "trained for another base model"),
]


@pytest.mark.parametrize("probe", ADAPTER_PROBES, ids=[p[0] for p in ADAPTER_PROBES])
@pytest.mark.parametrize("where", ["predict", "evaluate", "merge"])
def test_bad_adapter(ws, probe, where):
    name, adapter, message = probe
    adapter = adapter(ws)
    params = params_with(ws, "plain")
    if where == "predict":
        result = run(cmd(ws, "scripts/predict.py", params, "--adapter", adapter, "--input", str(ws / "pairs.jsonl")))
    elif where == "evaluate":
        result = run(cmd(ws, "stages/evaluate.py", params, "--adapter", adapter))
    else:
        out = ["--out", str(ws / "merged"), "--sample", str(ws / "pairs.jsonl")]
        result = run(cmd(ws, "scripts/merge_adapter.py", params, "--adapter", adapter, *out))
    line = assert_one_error(result, message)
    assert "hub" not in line.lower() or name == "other-base"  # a mistyped path never becomes a hub lookup
    assert not (ws / "merged").exists()


def unshare_ok() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(["unshare", "-rm", "true"]).returncode == 0


def on_full_disk(ws: Path, folder: Path, argv: list[str], prepare: str = "") -> subprocess.CompletedProcess:
    """Run ``argv`` with ``folder`` a tmpfs that is full; ``prepare`` (shell) runs first, before the filler."""
    folder.mkdir(parents=True, exist_ok=True)
    script = (
        f"mount -t tmpfs -o size=256k tmpfs {folder} && {prepare or 'true'} && "
        f"(dd if=/dev/zero of={folder}/filler bs=4k 2>/dev/null; true) && "
        f"exec {' '.join(map(_quote, argv))}"
    )
    return run(["unshare", "-rm", "sh", "-c", script])


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


@pytest.mark.skipif(not unshare_ok(), reason="needs unshare -rm to mount a small tmpfs")
@pytest.mark.parametrize("where", ["split", "train", "evaluate", "predict"])
def test_full_disk_is_one_error_and_keeps_the_previous_output(ws, where):
    full = ws / f"full-{where}"
    params = params_with(ws, "plain")
    if where == "split":
        argv = cmd(ws, "stages/split.py", params)
        argv[argv.index("--out-dir") + 1] = str(full / "split")
        prepare = f"mkdir {full}/split && echo old > {full}/split/train.jsonl && echo old > {full}/split/test.jsonl"
        kept = {"split/train.jsonl": "old\n", "split/test.jsonl": "old\n"}
    elif where == "train":
        argv = cmd(ws, "stages/train.py", params)
        argv[argv.index("--adapter-dir") + 1] = str(full / "adapter")
        prepare, kept = f"mkdir {full}/adapter && echo old > {full}/adapter/README", {"adapter/README": "old\n"}
    elif where == "evaluate":
        argv = cmd(ws, "stages/evaluate.py", params)
        argv[argv.index("--predictions") + 1] = str(full / "pred.csv")
        prepare, kept = f"echo old > {full}/pred.csv", {"pred.csv": "old\n"}
    else:
        argv = cmd(ws, "scripts/predict.py", params, "--adapter", str(ws / "adapter"))
        many = write_jsonl(ws / "many.jsonl", make_pairs(200, seed=13))  # output far beyond the old file's page
        argv += ["--input", str(many), "--output", str(full / "out.jsonl")]
        prepare, kept = f"echo old > {full}/out.jsonl", {"out.jsonl": "old\n"}
    result = on_full_disk(ws, full, argv, prepare)
    assert_one_error(result, "No space left on device", "free some disk space")
    # the tmpfs is gone with the namespace: the previous output is checked from inside it instead
    check = " && ".join(f'[ "$(cat {full}/{name})" = "{text.strip()}" ]' for name, text in kept.items())
    result = run(
        [
            "unshare",
            "-rm",
            "sh",
            "-c",
            f"mount -t tmpfs -o size=256k tmpfs {full} && {prepare} && "
            f"(dd if=/dev/zero of={full}/filler bs=4k 2>/dev/null; true) && "
            f"{' '.join(map(_quote, argv))} 2>/dev/null; {check}",
        ]
    )
    assert result.returncode == 0, "the previous output was damaged"


def test_non_utf8_raw_data_names_file_and_line(ws, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(ws / "raw", raw)
    with open(raw / "validation.jsonl", "ab") as f:
        f.write(b'{"premise": "caf\xe9", "hypothesis": "x", "label": 0}\n')
    argv = cmd(ws, "stages/split.py", params_with(ws, "plain"))
    argv[argv.index("--raw") + 1] = str(raw)
    assert_one_error(run(argv), "validation.jsonl:121: not UTF-8", "re-save the file as UTF-8")


def test_predict_output_is_written_atomically_and_matches_stdout(ws, tmp_path):
    out = tmp_path / "out.jsonl"
    result = predict(ws, "--input", str(ws / "pairs.jsonl"), "--output", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 3 and not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]
