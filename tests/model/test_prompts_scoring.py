"""Prompts, verbalizers and restricted label scoring on tiny models (hand-checkable cases)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import four_bit_model, make_pairs

from nli.core import config
from nli.core.errors import UserError
from nli.model import loading, prompts, scoring

VERBALIZERS = {"entailment": " yes", "neutral": " maybe", "contradiction": " no"}
TEMPLATE = "Premise: {premise}\nHypothesis: {hypothesis}\nAnswer:"


@pytest.fixture(scope="module")
def tiny():
    return loading.load({"name": "tiny-llama", "quantization": {"load_in_4bit": False}})


def test_template_needs_both_fields():
    assert prompts.check_template(TEMPLATE) == TEMPLATE
    with pytest.raises(UserError, match="exactly the placeholders"):
        prompts.check_template("Premise: {premise} {label}")


def test_verbalizers_are_distinct_single_tokens(tiny):
    ids = prompts.label_token_ids(tiny.tokenizer, VERBALIZERS)
    assert len(set(ids)) == 3
    for token_id, word in zip(ids, VERBALIZERS.values()):
        assert tiny.tokenizer.encode(word, add_special_tokens=False) == [token_id]


def test_verbalizers_with_a_shared_first_token_are_rejected(tiny):
    with pytest.raises(UserError, match="same token"):
        prompts.label_token_ids(tiny.tokenizer, {**VERBALIZERS, "neutral": " yes!"})
    with pytest.raises(UserError, match="exactly the keys"):
        prompts.label_token_ids(tiny.tokenizer, {"entailment": " yes"})


def test_few_shot_prefix_is_seeded_and_balanced():
    pool = [dict(r, id=str(i)) for i, r in enumerate(make_pairs(30))]
    prompt = config.section("prompt", {"template": TEMPLATE, "verbalizers": VERBALIZERS, "max_length": 256})
    a = prompts.few_shot_prefix(prompt, pool, 3, seed=1)
    assert a == prompts.few_shot_prefix(prompt, pool, 3, seed=1)
    assert a != prompts.few_shot_prefix(prompt, pool, 3, seed=2)
    assert sorted(line for line in a.splitlines() if line.startswith("Answer:")) == [
        "Answer: maybe",
        "Answer: no",
        "Answer: yes",
    ]


def test_length_sorted_batches_cover_every_index_once():
    lengths = [5, 9, 1, 7, 7, 3, 2]
    batches = scoring.length_sorted_batches(lengths, 3)
    assert sorted(i for b in batches for i in b) == list(range(7))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [lengths[i] for i in batches[0]] == [9, 7, 7]


def test_uniform_model_scores_minus_log_vocab(tiny):
    """Hand-checkable: with a zero lm_head every token has probability 1/V."""
    model = loading.load({"name": "tiny-llama", "quantization": {"load_in_4bit": False}}).model
    torch.nn.init.zeros_(model.lm_head.weight)
    ids = prompts.label_token_ids(tiny.tokenizer, VERBALIZERS)
    enc = scoring.encode(tiny.tokenizer, ["Premise: a\nAnswer:", "x"], 64)
    scores, speed = scoring.score(model, tiny.tokenizer, enc, ids, batch_size=2)
    assert np.allclose(scores, -math.log(model.config.vocab_size), atol=1e-5)
    assert speed["examples_per_second"] > 0


def test_batched_left_padded_scores_equal_one_by_one(tiny):
    texts = [prompts.format_prompt(TEMPLATE, r["premise"], r["hypothesis"]) for r in make_pairs(7)]
    texts[3] += " and a much longer tail to force padding in its batch"
    enc = scoring.encode(tiny.tokenizer, texts, 128)
    ids = prompts.label_token_ids(tiny.tokenizer, VERBALIZERS)
    batched, _ = scoring.score(tiny.model, tiny.tokenizer, enc, ids, batch_size=4)
    with torch.inference_mode():
        for i, seq in enumerate(enc):  # reference: no padding, full logits, plain forward
            logits = tiny.model(torch.tensor([seq])).logits[0, -1].float()
            expected = torch.log_softmax(logits, -1)[ids].numpy()
            assert np.allclose(batched[i], expected, atol=1e-4), i


def test_quantized_tiny_models_load_in_nf4():
    import bitsandbytes as bnb

    for name in ("tiny-llama", "tiny-phi"):
        # the 4-bit layers themselves, as a GPU loads them (CPU loads dequantize them once)
        model = four_bit_model(name, {"load_in_4bit": True, "quant_type": "nf4", "double_quant": True})
        quantized = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
        assert quantized and quantized[0].weight.quant_state.quant_type == "nf4"


def test_merge_adapter_scores_the_merged_model_like_the_unmerged_one(tmp_path):
    """evaluate.merge_adapter: the classifier's model holds no LoRA layers any more (one matmul a layer), says so in
    its run info, and scores like base + adapter (fp32: the two sums differ by rounding only)."""
    from conftest import tiny_params
    from peft import get_peft_model

    from nli.train import training

    params = tiny_params()  # NF4, dequantized once on CPU: dense weights to merge into
    params["model"]["compute_dtype"] = "fp32"
    model, prompt = config.model_section(**params["model"]), config.section("prompt", params["prompt"])
    base = loading.load(model).model
    lora = training.lora_config(params["lora"], base)
    lora.init_lora_weights = False  # a non-zero update, as after training
    get_peft_model(base, lora).save_pretrained(tmp_path / "adapter")
    pairs = make_pairs(24, seed=3)

    def classify(merge: bool):
        return scoring.load_classifier(model, prompt, batch_size=8, adapter=str(tmp_path / "adapter"), merge=merge)

    unmerged, merged = classify(False), classify(True)
    assert any("lora_" in n for n, _ in unmerged.model.named_parameters())
    assert not any("lora_" in n for n, _ in merged.model.named_parameters())
    assert "merged" in merged.loaded.info["adapter"] and "adapter" not in unmerged.loaded.info
    a, b = unmerged.score(pairs, progress=False)[0], merged.score(pairs, progress=False)[0]
    assert np.abs(a - b).max() < 1e-4


def test_merge_adapter_into_4bit_layers_is_refused():
    """On a GPU without quantization.materialize the base keeps 4-bit layers: merging would re-quantize the update."""
    quant = config.model_section(name="tiny-llama").quantization
    four_bit = loading.Runtime(device="cuda", dtype=torch.bfloat16, quantization=quant)
    with pytest.raises(UserError, match="evaluate.merge_adapter = true.*materialize: true"):
        scoring.check_mergeable(four_bit, "params.yaml")
    dense = loading.Runtime(device="cpu", dtype=torch.float32, quantization=quant)  # dequantized once on CPU
    scoring.check_mergeable(dense, "params.yaml")
