"""CPU speed paths that must not change a single number: the NF4-rounded cache and prepacked weights."""

from __future__ import annotations

import pytest
import torch
from conftest import four_bit_model

from nli.model import adapters, cpu, loading, scoring
from nli.serving import prepacked

NF4 = {"load_in_4bit": True, "quant_type": "nf4", "double_quant": True}


def test_nf4_rounded_cache_loads_the_bit_identical_model(monkeypatch, tmp_path):
    """The cache holds what quantize + dequantize give; loading it is the same model, frozen the same way."""
    monkeypatch.setenv("SNLI_QLORA_CACHE", str(tmp_path))
    params = {"name": "tiny-llama", "device": "cpu", "compute_dtype": "bf16", "quantization": NF4}
    direct = four_bit_model("tiny-llama", NF4, "bf16")
    assert adapters.dequantize_4bit_layers(direct, torch.bfloat16) > 0
    cached = loading.load(params)
    assert len(list(tmp_path.glob("tiny-llama-*-nf4-rounded-*"))) == 1
    again = loading.load(params)  # from the cache, no second build
    assert len(list(tmp_path.glob("tiny-llama-*-nf4-rounded-*"))) == 1
    want = dict(direct.named_parameters())
    for loaded in (cached, again):
        got = dict(loaded.model.named_parameters())
        assert got.keys() == want.keys()
        for name, p in want.items():
            assert torch.equal(got[name], p), name
            assert got[name].requires_grad == p.requires_grad, name
        assert "dequantized once on CPU" in loaded.info["quantization"]


def test_nf4_rounded_cache_follows_the_quantization_params(monkeypatch, tmp_path):
    monkeypatch.setenv("SNLI_QLORA_CACHE", str(tmp_path))
    for quant in (NF4, {**NF4, "double_quant": False}, {**NF4, "quant_type": "fp4"}):
        loading.load({"name": "tiny-llama", "compute_dtype": "bf16", "quantization": quant})
    assert len(list(tmp_path.glob("tiny-llama-*-nf4-rounded-*"))) == 3


BF16_CPU = torch.backends.mkldnn.is_available() and cpu.has_bf16()


@pytest.mark.skipif(not BF16_CPU, reason="needs a CPU with bf16 units and oneDNN")
def test_prepacked_weights_give_bit_identical_single_pair_logits(tmp_path):
    """Guards torch's private oneDNN ops (docs/internals.md): on a bf16 CPU they must exist, be used, and give the
    plain path's numbers bit for bit, with and without a LoRA adapter on top."""
    from peft import get_peft_model

    from nli.train import training

    assert hasattr(torch.ops.mkldnn, "_reorder_linear_weight") and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    assert prepacked._can_prepack(torch.nn.Module())
    loaded = loading.load({"name": "tiny-llama", "compute_dtype": "bf16", "quantization": NF4})
    torch.manual_seed(0)
    model = get_peft_model(
        loaded.model,
        training.lora_config(
            {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj", "v_proj", "down_proj"], "top_layers": 0}
        ),
    )
    for name, p in model.named_parameters():  # a non-zero adapter, so the LoRA layers count
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.5)
    model.eval()
    rows = [scoring.collate([ids], 0) for ids in ([5, 6, 7, 8, 9], [10, 11], [12, 13, 14, 15])]
    with torch.inference_mode(), scoring.adapter_in_compute_dtype(model):
        plain = [scoring.answer_logits(model, b) for b in rows]
        with prepacked.prepacked(model):
            packed_layers = [m for m in model.modules() if hasattr(m, "_packed_weight")]
            packed = [scoring.answer_logits(model, b) for b in rows]
    assert packed_layers
    assert all(torch.equal(a, b) for a, b in zip(plain, packed))
    assert not any(hasattr(m, "_packed_weight") or "forward" in vars(m) for m in model.modules())
    with torch.no_grad():  # weights changed after the context (a merge) are what the model computes with
        model.get_base_model().model.layers[0].mlp.down_proj.base_layer.weight.mul_(2)
    with torch.inference_mode(), scoring.adapter_in_compute_dtype(model):
        assert not torch.equal(scoring.answer_logits(model, rows[0]), plain[0])


def test_bf16_units_are_read_from_torchs_cpu_probes():
    """Guards torch's private CPU probes (docs/internals.md): they exist, answer a bool, and on Linux agree with the
    CPU flags the kernel reports (bf16 units: AVX512-BF16 or AMX tiles), which pick the CPU default's dtype."""
    from pathlib import Path

    for probe in (torch.cpu._is_avx512_bf16_supported, torch.cpu._is_amx_tile_supported):
        assert isinstance(probe(), bool)
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        flags = set(next(line for line in cpuinfo.read_text().splitlines() if line.startswith("flags")).split())
        assert cpu.has_bf16() == bool(flags & {"avx512_bf16", "amx_tile"})


def test_dequantized_model_is_a_plain_unquantized_model():
    """Through transformers' public ``dequantize``, plus the one flag it leaves set (docs/internals.md): no 4-bit
    layer, no quantization config or flag left, so PEFT prepares it as a plain model and it saves as one."""
    import bitsandbytes as bnb

    model = four_bit_model("tiny-llama", NF4, "bf16")
    four_bit = [name for name, m in model.named_modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert adapters.dequantize_4bit_layers(model, torch.bfloat16) == len(four_bit) > 0
    assert not any(isinstance(m, bnb.nn.Linear4bit) for m in model.modules())
    assert all(not model.get_submodule(n).weight.requires_grad for n in four_bit)
    assert not getattr(model, "is_loaded_in_4bit", False) and not getattr(model, "is_quantized", False)
    assert getattr(model, "hf_quantizer", None) is None and not hasattr(model.config, "quantization_config")
    assert adapters.dequantize_4bit_layers(model, torch.bfloat16) == 0  # nothing left to do: no error either


def test_the_train_and_stress_stages_start_without_sklearn():
    """sklearn is imported where metrics are computed, not by every stage that only reads peak memory: a stage's
    start-up is paid on every run, on a GPU too."""
    import subprocess
    import sys

    from conftest import ROOT

    code = "import sys, train, stress; print('sklearn' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT / 'src'}:{ROOT / 'stages'}", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.strip().splitlines()[-1] == "False"
