"""The adapter as an artifact: same bytes on every machine, a real model card, the package stage."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, tiny_params

from nli.core import config
from nli.core.artifacts import base_model_id
from nli.package import card
from nli.train import portable

DATA = {"train": 1800, "val": 100, "test": 500, "duplicates_dropped": 0}
FINETUNED = {"ft_acc": 0.676, "ft_f1": 0.6786}
COMPARE = {
    "delta": 0.324,
    "delta_lo": 0.28,
    "delta_hi": 0.37,
    "mcnemar_p": 1.2e-30,
    "neglog10_p": 29.921,
    "fixed": 190,
    "broken": 28,
    "ece_base": 0.301,
    "ece_ft": 0.072,
    "brier_base": 0.858,
    "brier_ft": 0.447,
    "nll_base": 1.68,
    "nll_ft": 0.76,
}


def save_adapter(base_dir: Path, out: Path) -> None:
    """Load the tiny base from ``base_dir`` (a machine-specific path) and save a fresh LoRA adapter."""
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, set_seed

    from nli.train import training

    set_seed(0)
    model = AutoModelForCausalLM.from_pretrained(str(base_dir), use_safetensors=True)
    lora = get_peft_model(model, training.lora_config(tiny_params()["lora"], model))
    lora.save_pretrained(str(out), safe_serialization=True)
    portable.canonicalize_adapter(out, "tiny-llama")


def test_adapter_bytes_do_not_depend_on_where_the_base_model_lives(tmp_path):
    from nli.model import sources

    cached = Path(sources.resolve("tiny-llama"))
    for user in ("alice", "bob"):  # the same base model in two users' caches
        shutil.copytree(cached, tmp_path / user / ".cache" / cached.name)
        save_adapter(tmp_path / user / ".cache" / cached.name, tmp_path / f"adapter-{user}")
    files = {p.name: p.read_bytes() for p in (tmp_path / "adapter-alice").iterdir()}
    assert set(files) == {"adapter_config.json", "adapter_model.safetensors"}  # PEFT's template README is gone
    assert files == {p.name: p.read_bytes() for p in (tmp_path / "adapter-bob").iterdir()}
    config = json.loads(files["adapter_config.json"])
    assert config["base_model_name_or_path"] == "tiny-llama"
    assert "/" not in json.dumps(config).replace("\\/", "")  # no path anywhere


def test_hub_alias_becomes_the_hub_id(tmp_path):
    (tmp_path / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": "/home/x/.cache/hub/phi", "target_modules": ["v", "q", "k"]})
    )
    (tmp_path / "README.md").write_text("base_model: /home/x/.cache/hub/phi\n")
    portable.canonicalize_adapter(tmp_path, "phi-2")
    config = json.loads((tmp_path / "adapter_config.json").read_text())
    assert config == {"base_model_name_or_path": "microsoft/phi-2", "target_modules": ["k", "q", "v"]}
    assert not (tmp_path / "README.md").exists()


def params(name: str) -> dict:
    p = config.load(ROOT / "params.yaml", list(config.SECTIONS))  # as the package stage reads it
    p["model"]["name"] = name
    return p


def test_card_holds_prompt_verbalizers_data_metrics_and_loading():
    p = params("smollm2-135m")
    text = card.render(p, DATA, FINETUNED, COMPARE)
    assert text.startswith('---\nbase_model: "smollm2-135m"\nlibrary_name: "peft"\n')
    assert p["prompt"]["template"].rstrip("\n") in text
    assert '| neutral | `" maybe"` |' in text
    assert "1800 training, 100 validation" in text and "500 test pairs" in text
    assert "| accuracy | 67.6% |" in text
    assert "+32.4 pp (95% CI +28.0 pp to +37.0 pp; McNemar p = 1.2e-30)" in text
    assert "| ECE (zero-shot → fine-tuned) | 0.301 → 0.072 |" in text and "| Brier score" in text
    assert "from SNLI's validation split" in text  # data.source: dvc
    assert "modeling.load(" in text  # no hub id for the embedded model: load it through the library
    hub = card.render(params("phi-2"), DATA, FINETUNED, COMPARE)
    assert 'AutoModelForCausalLM.from_pretrained("microsoft/phi-2")' in hub
    assert "PeftModel.from_pretrained(base" in hub
    merged = card.render(params("phi-2"), DATA, FINETUNED, COMPARE, merged=True)
    assert "merged model" in merged and "PeftModel" not in merged


def run_package(tmp_path: Path, adapter: Path) -> subprocess.CompletedProcess:
    metrics = {}
    for name, content in (("data", DATA), ("finetuned", FINETUNED), ("compare", COMPARE)):
        metrics[name] = tmp_path / "metrics" / f"{name}.json"
        metrics[name].parent.mkdir(exist_ok=True)
        metrics[name].write_text(json.dumps(content))
    return subprocess.run(
        [
            sys.executable,
            "stages/package.py",
            "--params",
            str(ROOT / "params.yaml"),
            "--adapter",
            str(adapter),
            "--data-metrics",
            str(metrics["data"]),
            "--finetuned-metrics",
            str(metrics["finetuned"]),
            "--compare-metrics",
            str(metrics["compare"]),
            "--out",
            str(tmp_path / "package"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_package_stage_copies_the_adapter_and_writes_the_card(tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text('{"base_model_name_or_path": "smollm2-135m"}\n')
    (adapter / "adapter_model.safetensors").write_bytes(b"weights")
    done = run_package(tmp_path, adapter)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "package"
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "adapter_config.json", "adapter_model.safetensors"]
    assert (out / "adapter_model.safetensors").read_bytes() == b"weights"
    assert (out / "README.md").read_text() == card.render(params("smollm2-135m"), DATA, FINETUNED, COMPARE)


def test_package_stage_without_adapter_fails_in_one_line(tmp_path):
    done = run_package(tmp_path, tmp_path / "nowhere")
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "run the train stage" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "package").exists()


@pytest.mark.parametrize("name", ["smollm2-135m", "phi-2"])
def test_card_names_the_portable_base(name):
    assert base_model_id(name) in card.render(params(name), DATA, FINETUNED, COMPARE).splitlines()[1]
