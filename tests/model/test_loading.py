"""Model loading paths and the parameter arithmetic the report's figures rest on."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT, four_bit_model

from nli.core.errors import UserError
from nli.model import loading, sources
from nli.train import training

NF4 = {"load_in_4bit": True, "quant_type": "nf4", "double_quant": True}


def lora_counts(name: str, lora: dict) -> dict:
    from peft import get_peft_model

    model = four_bit_model(name, NF4)  # 4-bit storage
    return loading.parameter_counts(get_peft_model(model, training.lora_config(lora)))


def test_report_lora_arithmetic_on_tiny_phi():
    """r on q/k/v adds layers * 3 * r * (h + h); 4-bit weights count half in raw numel."""
    spec = sources.TINY_CONFIGS["tiny-phi"]
    h, inter, layers, r = spec["hidden_size"], spec["intermediate_size"], spec["num_hidden_layers"], 8
    counts = lora_counts(
        "tiny-phi",
        {"r": r, "alpha": 16, "dropout": 0.0, "target_modules": ["q_proj", "k_proj", "v_proj"], "top_layers": 0},
    )
    lora = layers * 3 * r * (h + h)
    assert counts["trainable_params"] == lora
    quantized = layers * (4 * h * h + 2 * h * inter)  # q, k, v, dense; fc1, fc2 (biases stay unquantized)
    assert counts["total_params"] - counts["total_params_raw_numel"] == quantized // 2
    assert counts["trainable_percent"] == round(100 * lora / counts["total_params"], 4)


def test_phi2_report_figures_by_closed_form():
    """The same arithmetic at Phi-2's sizes gives the report's 31,457,280 and 1,552,849,920."""
    h, inter, layers, vocab, r = 2560, 10240, 32, 51200, 64
    lora = layers * 3 * r * (h + h)
    linear = layers * (4 * h * h + 2 * h * inter)
    biases = layers * (4 * h + inter + h)
    norms = layers * 2 * h + 2 * h
    total = vocab * h + linear + biases + norms + vocab * h + vocab  # embed, layers, final norm, lm_head
    assert lora == 31_457_280 and total == 2_779_683_840
    assert total - linear // 2 + lora == 1_552_849_920


def test_local_checkpoint_folder_uses_the_hub_code_path(tmp_path):
    import shutil

    folder = shutil.copytree(sources.build_tiny("tiny-phi"), tmp_path / "my-checkpoint")
    loaded = loading.load({"name": str(folder), "quantization": {"load_in_4bit": False}})
    assert loaded.info["source"] == str(folder) and loaded.tokenizer.padding_side == "left"
    assert loaded.tokenizer.pad_token is not None


def test_phi_runs_its_tanh_gelu_as_one_fused_kernel_with_the_same_logits(monkeypatch):
    """Phi-2's ``gelu_new`` loads as PyTorch's fused tanh GELU: every MLP takes it, and the logits match the stock
    activation's (fp32, where the two differ by rounding only). Fails if the loader keeps the stock activation."""
    import torch
    from transformers import AutoConfig
    from transformers.activations import GELUTanh, NewGELUActivation

    plain = {"name": "tiny-phi", "compute_dtype": "fp32", "quantization": {"load_in_4bit": False}}

    def activations(model) -> set:
        return {type(m) for m in model.modules() if isinstance(m, (GELUTanh, NewGELUActivation))}

    fused = loading.load(plain).model
    monkeypatch.setattr(loading, "FUSED_GELU", False)
    stock = loading.load(plain).model
    assert AutoConfig.from_pretrained(sources.resolve("tiny-phi")).hidden_act == "gelu_new"  # Phi-2's, as saved
    assert activations(fused) == {GELUTanh} and activations(stock) == {NewGELUActivation}
    ids = torch.randint(3, 40, (2, 12), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(fused(ids).logits, stock(ids).logits, rtol=1e-5, atol=1e-5)


def test_unknown_alias_is_a_clear_error():
    with pytest.raises(UserError, match="neither a known alias"):
        sources.resolve("smollm-9000")


def test_hub_model_unavailable_offline_says_how_to_get_it():
    with pytest.raises(UserError, match="hf download"):
        loading.load({"name": "no-such-owner/no-such-model", "quantization": {"load_in_4bit": False}})


def test_fp16_on_cpu_is_rejected_before_loading():
    with pytest.raises(UserError, match="fp16 needs a GPU"):
        loading.pick_dtype("fp16", "cpu")


def test_no_remote_code_no_pickle_in_project_code():
    code = "\n".join(p.read_text() for d in ("src", "stages", "scripts", "bench") for p in (ROOT / d).rglob("*.py"))
    assert not re.search(r"trust_remote_code\s*=\s*True", code)
    assert not re.search(r"\btorch\.load\(|\bpickle\.load", code)
    assert "use_safetensors=True" in code


def test_all_linear_targets_every_projection_of_tiny_llama():
    spec = sources.TINY_CONFIGS["tiny-llama"]
    h, inter, layers, r = spec["hidden_size"], spec["intermediate_size"], spec["num_hidden_layers"], 4
    kv = h // spec["num_attention_heads"] * spec["num_key_value_heads"]
    counts = lora_counts(
        "tiny-llama", {"r": r, "alpha": 8, "dropout": 0.0, "target_modules": "all-linear", "top_layers": 0}
    )
    shapes = [(h, h), (h, kv), (h, kv), (h, h), (h, inter), (h, inter), (inter, h)]  # q k v o gate up down
    assert counts["trainable_params"] == layers * sum(r * (i + o) for i, o in shapes)


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_cpu_dequantize_once_computes_what_the_4bit_layers_compute(dtype):
    """The CPU path's frozen dequantized weights give the 4-bit layers' own logits, in plain Linear layers."""
    import bitsandbytes as bnb
    import torch

    from nli.model import scoring

    params = {"name": "tiny-llama", "device": "cpu", "compute_dtype": dtype, "quantization": NF4}
    nf4, once = four_bit_model("tiny-llama", NF4, dtype), loading.load(params)
    four_bit = [name for name, m in nf4.named_modules() if isinstance(m, bnb.nn.Linear4bit)]
    replaced = dict(once.model.named_modules())
    assert four_bit and all(type(replaced[n]) is torch.nn.Linear for n in four_bit)
    assert not any(replaced[n].weight.requires_grad for n in four_bit)
    batch = scoring.collate([[5, 6, 7, 8, 9], [10, 11, 12]], 0)
    # The reference: bitsandbytes' dequantize + matmul. In train mode (no dropout in tiny-llama) a Linear4bit keeps
    # that path; in eval mode on a CPU with AVX512-BF16 it would repack itself for another inference kernel.
    nf4.train()
    with torch.no_grad():
        a = scoring.answer_logits(nf4, batch)
    with torch.inference_mode():
        b = scoring.answer_logits(once.model, batch)
    torch.testing.assert_close(a, b, rtol=0, atol=1e-2 if dtype == "bf16" else 1e-5)
    assert "dequantized once on CPU" in once.info["quantization"]


def test_auto_compute_dtype_uses_cpu_bf16_units_when_present(monkeypatch):
    import torch

    monkeypatch.setattr(loading.cpu, "has_bf16", lambda: True)
    assert loading.pick_dtype("auto", "cpu") == torch.bfloat16
    monkeypatch.setattr(loading.cpu, "has_bf16", lambda: False)
    assert loading.pick_dtype("auto", "cpu") == torch.float32


def test_loads_on_a_gpu_keep_sdpa_off_its_cudnn_backend(monkeypatch):
    """cuDNN attention's host cost per call slows the embedded model's host-bound training step on a GPU
    (bench/train_step_profile.py, docs/gpu.md): every load on a GPU switches that backend off; a CPU load leaves
    torch as is."""
    import torch

    switched = []
    monkeypatch.setattr(torch.backends.cuda, "enable_cudnn_sdp", switched.append)
    loading.prefer_flash_attention("cpu")
    assert switched == []
    loading.prefer_flash_attention("cuda")
    assert switched == [False]
    seen = []
    monkeypatch.setattr(loading, "prefer_flash_attention", seen.append)
    loading.load({"name": "tiny-llama", "device": "cpu", "compute_dtype": "fp32", "quantization": NF4})
    assert seen == ["cpu"]  # load() resolves the device and applies the choice for it


@pytest.mark.parametrize("rows", [8, 1])
def test_answer_logits_do_not_copy_the_frozen_output_head_per_row(rows):
    """The answer slice is a strided view; fed as is to a frozen lm_head, F.linear expanded the
    weight to one copy per row (a batched matmul over (rows, hidden, vocab)): 1.8 GB a batch for SmolLM2.
    A single row (streaming predict) took the same path even when contiguous: 83 ms of a 194 ms pair."""
    import torch

    from nli.model import scoring

    loaded = loading.load({"name": "tiny-llama", "quantization": NF4})  # dequantized on CPU
    loaded.model.requires_grad_(False)  # frozen, as under an adapter
    vocab = loaded.model.config.vocab_size
    batch = scoring.collate([[5, 6, 7, 8], [9, 10]] * 4, 0) if rows > 1 else scoring.collate([[5, 6, 7]], 0)
    with torch.profiler.profile(record_shapes=True) as prof, torch.inference_mode():
        scoring.answer_logits(loaded.model, batch)
    per_row_head = [e for e in prof.events() if e.name == "aten::bmm" and any(vocab in s for s in e.input_shapes)]
    assert not per_row_head


def write_tiny_gguf(path, layers=2, hidden=64, ffn=128, heads=4, kv_heads=2) -> None:
    """A random llama GGUF with Q4_1 matrices (as the embedded model's) and the tiny BPE tokenizer."""
    import json

    import gguf
    import numpy as np

    tok = sources.tiny_tokenizer()
    vocab = tok.get_vocab()
    merges = [" ".join(m) for m in json.loads(tok.backend_tokenizer.to_str())["model"]["merges"]]
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_block_count(layers)
    w.add_context_length(512)
    w.add_embedding_length(hidden)
    w.add_feed_forward_length(ffn)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    w.add_tokenizer_model("gpt2")
    w.add_token_list(sorted(vocab, key=vocab.get))
    w.add_token_merges(merges)
    w.add_token_types([gguf.TokenType.NORMAL] * len(vocab))
    w.add_bos_token_id(tok.bos_token_id)
    w.add_eos_token_id(tok.eos_token_id)
    rng = np.random.default_rng(0)
    kv = kv_heads * hidden // heads
    shapes = {"token_embd": (len(vocab), hidden), "output": (len(vocab), hidden), "output_norm": (hidden,)}
    per_layer = {"attn_norm": (hidden,), "ffn_norm": (hidden,), "attn_q": (hidden, hidden), "attn_k": (kv, hidden)}
    per_layer |= {"attn_v": (kv, hidden), "attn_output": (hidden, hidden), "ffn_gate": (ffn, hidden)}
    per_layer |= {"ffn_up": (ffn, hidden), "ffn_down": (hidden, ffn)}
    shapes |= {f"blk.{i}.{name}": shape for i in range(layers) for name, shape in per_layer.items()}
    for name, shape in shapes.items():
        a = (rng.standard_normal(shape) * 0.05).astype(np.float32)
        if a.ndim == 2:
            q = gguf.quants.quantize(a, gguf.GGMLQuantizationType.Q4_1)
            w.add_tensor(f"{name}.weight", q, raw_shape=q.shape, raw_dtype=gguf.GGMLQuantizationType.Q4_1)
        else:
            w.add_tensor(f"{name}.weight", a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def test_gguf_conversion_writes_a_plain_checkpoint_of_the_gguf_weights(tmp_path):
    """transformers' public GGUF path (``GgufConfig(dequantize=True)``) gives a plain float checkpoint: no
    quantization config left to write by hand, and the same bytes as the conversion that patched gguf's reader
    and wrote transformers' private state (the weights' hash below is that conversion's)."""
    import hashlib
    import json

    import gguf

    write_tiny_gguf(tmp_path / "tiny.gguf")
    reader, name_map = gguf.GGUFReader, gguf.get_tensor_name_map
    sources.convert_gguf(tmp_path / "tiny.gguf", tmp_path / "plain")
    assert (gguf.GGUFReader, gguf.get_tensor_name_map) == (reader, name_map)  # no module of gguf patched
    files = {p.name for p in (tmp_path / "plain").iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= files
    assert "quantization_config" not in json.loads((tmp_path / "plain" / "config.json").read_text())
    weights = hashlib.sha256((tmp_path / "plain" / "model.safetensors").read_bytes()).hexdigest()
    assert weights == TINY_GGUF_WEIGHTS
    model = loading.load({"name": str(tmp_path / "plain"), "device": "cpu", "compute_dtype": "fp32"}).model
    assert model.config.num_hidden_layers == 2 and not getattr(model, "is_quantized", False)


TINY_GGUF_WEIGHTS = "768fdbbca80a3f09f5d7d4344a2e34f098172a301b7779d03f6cd8eecb7f60fe"
