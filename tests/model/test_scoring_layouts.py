"""The batch layout the model sees: no empty attention rows under SDPA, and eager attention left as it is."""

from __future__ import annotations

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
