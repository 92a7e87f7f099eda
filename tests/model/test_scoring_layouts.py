"""Batch layouts the model sees: no empty attention rows under SDPA, padding-free equals padded."""

from __future__ import annotations

import pytest
import torch

from nli.model import loading, scoring
from nli.train import training


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


def test_padding_free_scores_equal_padded(tiny):
    with torch.inference_mode():
        padded = scoring.answer_logits(tiny.model, scoring.collate(SEQS, tiny.tokenizer.pad_token_id))
        packed = scoring.answer_logits(tiny.model, scoring.collate_packed(SEQS))
    assert packed.shape == padded.shape
    assert torch.allclose(packed.log_softmax(-1), padded.log_softmax(-1), atol=1e-4)


def test_packed_collator_keeps_labels_per_example():
    rows = training.make_examples(SEQS, [0, 1, 2], [10, 20, 30])
    batch = training.make_collator(0, packed=True)(rows)
    assert batch["input_ids"].shape == (1, sum(map(len, SEQS)))
    assert batch["answer_index"].tolist() == [6, 8, 12]
    assert batch["labels"].tolist() == [10, 20, 30]
