"""CUDA-only checks (skipped without a GPU; run on the device machine): NF4 weights materialised once on the GPU."""

from __future__ import annotations

import pytest
import torch

from nli.core import config
from nli.model import loading, scoring, sources

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
NF4 = {"load_in_4bit": True, "quant_type": "nf4", "double_quant": True}


def test_materialized_nf4_weights_compute_what_the_4bit_layers_compute(monkeypatch, tmp_path):
    """quantization.materialize: every Linear4bit becomes a frozen nn.Linear holding its dequantized weights, so
    the model computes with the same NF4-rounded numbers; logits and LoRA gradients match the 4-bit model's to
    bf16 rounding (the 4-bit path's fused kernel may order the sums differently)."""
    import bitsandbytes as bnb
    from peft import get_peft_model

    from nli.train import training

    monkeypatch.setenv("SNLI_QLORA_CACHE", str(tmp_path))
    params = {"name": "tiny-llama", "device": "cuda", "compute_dtype": "bf16", "quantization": NF4}
    four = loading.load(params)
    mat = loading.load({**params, "quantization": {**NF4, "materialize": True}})
    assert any(isinstance(m, bnb.nn.Linear4bit) for m in four.model.modules())
    assert not any(isinstance(m, bnb.nn.Linear4bit) for m in mat.model.modules())
    assert "dequantized once on the GPU" in mat.info["quantization"]
    for name, m in four.model.named_modules():
        if isinstance(m, bnb.nn.Linear4bit):
            twin = mat.model.get_submodule(name)
            deq = bnb.functional.dequantize_4bit(m.weight.data, m.weight.quant_state)
            assert torch.equal(twin.weight, deq.to(twin.weight.dtype)) and not twin.weight.requires_grad, name

    g = torch.Generator().manual_seed(0)
    seqs = [torch.randint(3, 60, (int(n),), generator=g).tolist() for n in torch.randint(5, 30, (16,), generator=g)]
    batch = {k: v.cuda() for k, v in scoring.collate(seqs, four.tokenizer.pad_token_id).items()}
    lora = {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": "all-linear", "top_layers": 0}
    results = []
    for loaded in (four, mat):
        model = get_peft_model(loaded.model, training.lora_config(lora, loaded.model))
        torch.manual_seed(1)
        for n, p in model.named_parameters():  # the same non-zero adapter in both
            if "lora_" in n:
                p.data = torch.randn_like(p) * 0.05
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = scoring.answer_logits(model, batch)
        logits.logsumexp(-1).sum().backward()
        grads = {n: p.grad.float().clone() for n, p in model.named_parameters() if p.requires_grad}
        results.append((logits.detach(), grads))
    (l4, g4), (lm, gm) = results
    rel = ((l4 - lm).norm() / l4.norm()).item()
    assert rel < 1e-2, rel
    for n in g4:
        assert ((g4[n] - gm[n]).norm() / g4[n].norm().clamp_min(1e-12)).item() < 5e-2, n
    print(f"relative logit difference, 4-bit vs materialised: {rel:.2e}; exactly equal: {torch.equal(l4, lm)}")


def test_gpu_quantizes_on_the_gpu_and_never_reads_the_cpu_nf4_rounded_cache(monkeypatch, tmp_path):
    """The GPU path quantizes with bitsandbytes on the GPU even where the CPU path's NF4-rounded cache is built
    (loading.nf4_rounded): bitsandbytes' CPU and CUDA quantization round most of SmolLM2's layers differently
    (bench/gpu_session/nf4_cache_s6.py, docs/gpu.md session 6), so loading that cache on a GPU would move every GPU
    figure."""
    monkeypatch.setenv("SNLI_QLORA_CACHE", str(tmp_path))
    model = config.model_section(
        name="tiny-llama", device="cuda", compute_dtype="bf16", quantization={**NF4, "materialize": True}
    )
    folder = loading.nf4_rounded(sources.resolve("tiny-llama"), model.quantization, torch.bfloat16)
    assert loading.nf4_rounded_ready(sources.resolve("tiny-llama"), model.quantization, torch.bfloat16)

    def cache_read(*a, **k):
        raise AssertionError(f"the GPU path read the CPU cache {folder}")

    monkeypatch.setattr(loading, "_from_nf4_rounded", cache_read)
    loaded = loading.load(model)
    assert loaded.info["quantization"].endswith("dequantized once on the GPU")
    assert next(loaded.model.parameters()).is_cuda


def test_gpu_batches_are_right_padded_with_no_mask_and_score_as_left_padded_ones(monkeypatch, tmp_path):
    """On a GPU the model gets right-padded rows and no attention mask (SDPA can take its flash kernel); the label
    log-probabilities and LoRA gradients match the left-padded, masked layout's to bf16 rounding, all finite."""
    from peft import get_peft_model

    from nli.train import training

    monkeypatch.setenv("SNLI_QLORA_CACHE", str(tmp_path))
    loaded = loading.load(
        {"name": "tiny-llama", "device": "cuda", "compute_dtype": "bf16", "quantization": {**NF4, "materialize": True}}
    )
    assert scoring.padding_side("cuda") == "right"
    lora = {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": "all-linear", "top_layers": 0}
    model = get_peft_model(loaded.model, training.lora_config(lora, loaded.model))
    torch.manual_seed(1)
    for n, p in model.named_parameters():
        if "lora_" in n:
            p.data = torch.randn_like(p) * 0.05
    seen = []
    hook = model.get_base_model().model.register_forward_pre_hook(  # the decoder, called with keywords
        lambda m, a, kw: seen.append(kw.get("attention_mask")), with_kwargs=True
    )
    g = torch.Generator().manual_seed(0)
    seqs = [torch.randint(3, 60, (int(n),), generator=g).tolist() for n in torch.randint(5, 30, (16,), generator=g)]
    out = {}
    for side in ("left", "right"):
        model.zero_grad()
        batch = {k: v.cuda() for k, v in scoring.collate(seqs, loaded.tokenizer.pad_token_id, side).items()}
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = scoring.answer_logits(model, batch)
        torch.log_softmax(logits, -1)[:, :5].sum().backward()
        grads = torch.cat([p.grad.float().flatten() for p in model.parameters() if p.requires_grad])
        out[side] = (torch.log_softmax(logits.detach(), -1), grads)
    hook.remove()
    assert seen[0] is not None and seen[1] is None  # the right-padded forward got no mask
    (ll, gl), (lr, gr) = out["left"], out["right"]
    assert torch.isfinite(lr).all() and torch.isfinite(gr).all()
    assert ((lr - ll).norm() / ll.norm()).item() < 1e-2
    assert ((gr - gl).norm() / gl.norm()).item() < 5e-2
    collate = training.make_collator(loaded.tokenizer.pad_token_id, scoring.padding_side(loaded.device))
    assert "keep_positions" in collate([{"input_ids": s, "labels": 5} for s in seqs[:3]])


def test_merged_adapter_scores_like_the_unmerged_one_on_materialised_weights(monkeypatch, tmp_path):
    """evaluate.merge_adapter on a GPU (quantization.materialize): the adapter merged into the NF4-rounded bf16
    weights scores the same labels as base + adapter, to bf16 rounding; without materialize it is refused."""
    from conftest import make_pairs, tiny_params
    from peft import get_peft_model

    from nli.core.errors import UserError
    from nli.train import training

    monkeypatch.setenv("SNLI_QLORA_CACHE", str(tmp_path))
    params = tiny_params()
    params["model"].update(device="cuda", compute_dtype="bf16")
    params["model"]["quantization"]["materialize"] = True
    model, prompt = config.model_section(**params["model"]), config.section("prompt", params["prompt"])
    base = loading.load(model).model
    lora = training.lora_config(params["lora"], base)
    lora.init_lora_weights = False
    get_peft_model(base, lora).save_pretrained(tmp_path / "adapter")
    pairs = make_pairs(64, seed=5)
    scored = []
    for merge in (False, True):
        clf = scoring.load_classifier(model, prompt, batch_size=16, adapter=str(tmp_path / "adapter"), merge=merge)
        scored.append(clf.score(pairs, progress=False)[0])
    unmerged, merged = scored
    assert (unmerged.argmax(1) == merged.argmax(1)).mean() >= 0.95
    assert abs(unmerged - merged).max() < 0.1, abs(unmerged - merged).max()
    four_bit = config.model_section(**{**params["model"], "quantization": NF4})
    with pytest.raises(UserError, match="materialize: true"):
        scoring.load_classifier(four_bit, prompt, batch_size=16, adapter=str(tmp_path / "adapter"), merge=True)


def test_training_casts_each_layernorm_output_once_for_all_its_consumers(monkeypatch, tmp_path):
    """CUDA autocast returns LayerNorm outputs in float32, and each of Phi's q, k, v and fc1 projections and their
    adapters casts its own bf16 copy of it. Training casts the output once (training.norm_outputs_in_autocast_dtype):
    the adapters of a layer read one bf16 tensor, and the hooks are gone after training."""
    from conftest import tiny_params
    from peft import get_peft_model

    from nli.train import training

    monkeypatch.setenv("SNLI_QLORA_CACHE", str(tmp_path))
    params = tiny_params()
    params["model"].update(name="tiny-phi", device="cuda", compute_dtype="bf16")
    params["model"]["quantization"]["materialize"] = True
    model_p = config.model_section(**params["model"])
    loaded = loading.load(model_p)
    model = get_peft_model(loaded.model, training.lora_config({**params["lora"], "dropout": 0.0}, loaded.model))
    layer = model.get_submodule("base_model.model.model.layers.0")
    readers = {n: layer.get_submodule(f"{n}.lora_A.default") for n in ("self_attn.q_proj", "self_attn.k_proj")}
    readers["mlp.fc1"] = layer.get_submodule("mlp.fc1.lora_A.default")
    seen, handles = {}, []

    def storages():
        seen.clear()
        for handle in handles:
            handle.remove()
        handles[:] = [
            m.register_forward_pre_hook(
                lambda m, a, name=name: seen.update({name: (a[0].dtype, a[0].untyped_storage().data_ptr())})
            )
            for name, m in readers.items()
        ]

    g = torch.Generator().manual_seed(3)
    encoded = [torch.randint(8, 40, (int(n),), generator=g).tolist() for n in torch.randint(5, 20, (16,), generator=g)]
    examples = training.make_examples(encoded, [i % 3 for i in range(16)], [5, 6, 7])
    train_p = config.section("train", {**params["train"], "max_steps": 1, "batch_size": 8, "grad_accum": 1})
    args = training.training_arguments(
        train_p,
        output_dir=str(tmp_path / "run"),
        seed=0,
        runtime=loading.runtime(model_p),
        total_steps=1,
        validate=False,
    )
    trainer = training.LabelTokenTrainer(
        model=model,
        args=args,
        train_dataset=examples,
        data_collator=training.make_collator(0, "right"),
        label_token_ids=[5, 6, 7],
    )
    storages()
    trainer.train()
    assert len(seen) == 3 and set(seen.values()) == {(torch.bfloat16, seen["mlp.fc1"][1])}, seen  # one bf16 tensor
    norm, x = layer.input_layernorm, torch.randn(2, 3, layer.input_layernorm.normalized_shape[0], device="cuda")
    with torch.autocast("cuda", dtype=torch.bfloat16):
        assert norm(x.bfloat16()).dtype == torch.float32  # the hooks are gone after training
    monkeypatch.setattr(training, "CAST_NORM_OUTPUTS", False)
    storages()
    trainer.train()
    # without it, all read the float32 output and each matmul casts its own bf16 copy of it
    assert {dtype for dtype, _ in seen.values()} == {torch.float32}, seen
