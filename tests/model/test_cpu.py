"""CPU speed paths that must not change a single number: the NF4-rounded cache and prepacked weights."""

from __future__ import annotations

import pytest
import torch

from nli.model import adapters, loading, scoring
from nli.serving import prepacked

NF4 = {"load_in_4bit": True, "quant_type": "nf4", "double_quant": True}


def test_nf4_rounded_cache_loads_the_bit_identical_model(monkeypatch, tmp_path):
    """The cache holds what quantize + dequantize give; loading it is the same model, frozen the same way."""
    monkeypatch.setenv("SNLI_QLORA_CACHE", str(tmp_path))
    params = {"name": "tiny-llama", "device": "cpu", "compute_dtype": "bf16", "quantization": NF4}
    direct = loading.load(params, dequantize_on_cpu=False).model
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


@pytest.mark.skipif(not prepacked._can_prepack(torch.nn.Module()), reason="needs a CPU with bf16 units and oneDNN")
def test_prepacked_weights_give_bit_identical_single_pair_logits(tmp_path):
    from peft import get_peft_model

    from nli.train import training

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
            lean_layers = [m for m in model.modules() if hasattr(m, "_lean_ab")]
            packed = [scoring.answer_logits(model, b) for b in rows]
    assert packed_layers and len(lean_layers) == 2 * 3  # q, v, down_proj in both layers
    assert all(torch.equal(a, b) for a, b in zip(plain, packed))
    assert not any(hasattr(m, "_packed_weight") or "forward" in vars(m) for m in model.modules())
    with torch.no_grad():  # weights changed after the context (a merge) are what the model computes with
        model.get_base_model().model.layers[0].mlp.down_proj.base_layer.weight.mul_(2)
    with torch.inference_mode(), scoring.adapter_in_compute_dtype(model):
        assert not torch.equal(scoring.answer_logits(model, rows[0]), plain[0])
