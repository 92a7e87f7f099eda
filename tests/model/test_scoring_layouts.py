"""The batch layout the model sees: no empty attention rows under SDPA, and eager attention left as it is."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nli.model import loading, scoring


@pytest.fixture(scope="module")
def tiny():
    loaded = loading.load({"name": "tiny-llama", "quantization": {"load_in_4bit": False}})
    loaded.model.set_attn_implementation("sdpa")  # the GPU's attention; CPU loads default to eager
    return loaded


SEQS = [[5, 6, 7, 8, 9, 10, 11], [12, 13], [14, 15, 16, 17]]


def test_sdpa_mask_has_no_empty_rows_and_masks_pad_keys(tiny):
    """A left pad position must attend to something (itself): an all-masked SDPA row gave NaN grads in bf16."""
    seen = {}
    handle = tiny.model.register_forward_pre_hook(
        lambda m, a, kw: seen.update(mask=kw["attention_mask"]), with_kwargs=True
    )
    batch = scoring.collate(SEQS, tiny.tokenizer.pad_token_id)
    try:
        with torch.inference_mode():
            scoring.answer_logits(tiny.model, batch)
    finally:
        handle.remove()
    mask = seen["mask"]
    assert tiny.model.config._attn_implementation == "sdpa"
    assert mask.dim() == 4 and mask.dtype == torch.bool
    assert mask.any(-1).all(), "a query row attends to nothing"
    real = batch["attention_mask"].bool()
    for row in range(len(SEQS)):  # real queries see exactly the real keys up to themselves
        for q in torch.nonzero(real[row]).flatten():
            expected = real[row].clone()
            expected[q + 1 :] = False
            assert torch.equal(mask[row, 0, q], expected)


def test_cpu_loads_keep_eager_attention_and_the_plain_padding_mask():
    """Guards the private ``config._attn_implementation`` read (docs/internals.md): CPU loads ask for eager attention,
    and there ``answer_logits`` hands the model the 2-D padding mask untouched (the CPU default's numbers)."""
    loaded = loading.load({"name": "tiny-llama", "quantization": {"load_in_4bit": False}})
    assert loaded.model.config._attn_implementation == "eager"
    seen = {}
    handle = loaded.model.register_forward_pre_hook(
        lambda m, a, kw: seen.update(mask=kw["attention_mask"]), with_kwargs=True
    )
    batch = scoring.collate(SEQS, loaded.tokenizer.pad_token_id)
    try:
        with torch.inference_mode():
            scoring.answer_logits(loaded.model, batch)
    finally:
        handle.remove()
    assert seen["mask"] is batch["attention_mask"] or torch.equal(seen["mask"], batch["attention_mask"])


def test_right_padded_batches_put_each_row_at_the_start_and_name_its_last_token():
    batch = scoring.collate(SEQS, 0, "right")
    assert batch["input_ids"].tolist() == [[5, 6, 7, 8, 9, 10, 11], [12, 13, 0, 0, 0, 0, 0], [14, 15, 16, 17, 0, 0, 0]]
    assert batch["attention_mask"].sum(-1).tolist() == [7, 2, 4]
    assert batch["keep_positions"].tolist() == [1, 3, 6]  # the distinct last positions
    assert batch["keep_positions"][batch["answer_pick"]].tolist() == [6, 1, 3]  # each row's last real token
    assert "position_ids" not in batch  # the model's default 0, 1, ... is each row's own count


@pytest.mark.parametrize("name", ["tiny-llama", "tiny-phi"])
@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_right_padding_without_a_mask_gives_the_left_padded_logits_and_gradients(name, attn):
    """The GPU's layout (right pads, no mask) computes the same function as the CPU's (left pads, mask): the same
    answer logits and the same LoRA gradients, on a tiny model in fp32."""
    from nli.core import config
    from nli.train import training

    loaded = loading.load({"name": name, "quantization": {"load_in_4bit": False}})
    loaded.model.set_attn_implementation(attn)
    lora = config.section("lora", {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": "all-linear", "top_layers": 0})
    model = training.add_lora(loaded.model, lora, seed=0, model_name=name)
    for n, p in model.named_parameters():  # LoRA B starts at zero: give it values so its gradient flows
        if "lora_B" in n:
            torch.nn.init.normal_(p, std=0.05)
    model.eval()
    seqs = [list(range(5, 5 + n)) for n in (9, 2, 5, 9, 4)]
    logits, grads = {}, {}
    for side in ("left", "right"):
        model.zero_grad()
        out = scoring.answer_logits(model, scoring.collate(seqs, loaded.tokenizer.pad_token_id, side))
        out[:, :7].sum().backward()
        logits[side] = out.detach()
        grads[side] = [p.grad.clone() for n, p in model.named_parameters() if p.requires_grad]
    torch.testing.assert_close(logits["right"], logits["left"], rtol=1e-5, atol=1e-5)
    right, left = torch.cat([g.flatten() for g in grads["right"]]), torch.cat([g.flatten() for g in grads["left"]])
    if attn == "eager":
        torch.testing.assert_close(right, left, rtol=1e-5, atol=1e-7)
    else:  # torch's CPU SDPA backward differs from eager's by a few 1e-3 (relative norm) on either layout
        assert float((right - left).norm() / left.norm()) < 2e-2


def test_score_right_pads_only_on_a_gpu_and_both_layouts_score_alike(tiny, monkeypatch):
    """``score`` picks the layout by device (CPU: left, its committed numbers); forced to the right-padded layout
    on CPU it gives the same log-probabilities."""
    assert scoring.padding_side("cpu") == "left" and scoring.padding_side("cuda") == "right"
    seqs = [list(range(5, 5 + n)) for n in (9, 2, 5, 9, 4, 7)]
    pad = tiny.tokenizer.pad_token_id
    left, _ = scoring.score(tiny.model, tiny.tokenizer, seqs, [5, 6, 7], batch_size=4, progress=False)
    seen = []
    real = scoring.collate
    monkeypatch.setattr(scoring, "padding_side", lambda device: "right")
    monkeypatch.setattr(scoring, "collate", lambda s, p, side="left": seen.append(side) or real(s, p, side))
    right, _ = scoring.score(tiny.model, tiny.tokenizer, seqs, [5, 6, 7], batch_size=4, progress=False)
    assert seen == ["right", "right"] and pad is not None
    np.testing.assert_allclose(right, left, rtol=1e-5, atol=1e-5)
