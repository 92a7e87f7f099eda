"""bench/adapter_soup.py: the soup of k LoRA adapters is one PEFT adapter whose update is the mean of theirs."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
import torch
from conftest import ROOT

spec = importlib.util.spec_from_file_location("adapter_soup", ROOT / "bench" / "adapter_soup.py")
adapter_soup = importlib.util.module_from_spec(spec)
spec.loader.exec_module(adapter_soup)


def tiny_base(seed: int = 0):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=64,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=32,
    )
    return LlamaForCausalLM(cfg).eval()


def save_adapter(folder, seed: int):
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    cfg = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"], init_lora_weights=False)
    get_peft_model(tiny_base(), cfg).save_pretrained(str(folder), safe_serialization=True)
    return folder


def merged_weights(folder) -> dict[str, torch.Tensor]:
    from peft import PeftModel

    model = PeftModel.from_pretrained(tiny_base(), str(folder)).merge_and_unload()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_the_soup_scores_as_the_mean_of_the_updates(tmp_path):
    folders = [save_adapter(tmp_path / f"s{i}", seed=i) for i in (1, 2, 3)]
    out = tmp_path / "soup"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "adapter_soup.py"), "--adapters", *map(str, folders), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    config = json.loads((out / "adapter_config.json").read_text())
    assert (config["r"], config["lora_alpha"]) == (12, 24)
    base = {k: v.detach().clone() for k, v in tiny_base().state_dict().items()}
    each = [merged_weights(f) for f in folders]
    souped = merged_weights(out)
    changed = 0
    for key, w in base.items():
        mean_delta = sum(e[key] - w for e in each) / 3
        torch.testing.assert_close(souped[key] - w, mean_delta, rtol=1e-5, atol=1e-6)
        changed += bool(mean_delta.abs().max() > 0)
    assert changed == 2 * 3  # q, v and down in both layers: the test looks at real updates


def test_adapters_of_different_setups_are_one_clear_error(tmp_path):
    from nli.core.errors import UserError

    a = save_adapter(tmp_path / "a", seed=1)
    b = save_adapter(tmp_path / "b", seed=2)
    cfg = json.loads((b / "adapter_config.json").read_text())
    (b / "adapter_config.json").write_text(json.dumps({**cfg, "r": 8}))
    with pytest.raises(UserError, match="not the same LoRA setup"):
        adapter_soup.soup([a, b])


def test_the_block_comparison_is_a_paired_t_interval():
    """soups_s5.paired: the mean of the per-block differences and scipy's one-sample t interval for it."""
    from scipy import stats

    sys.path.insert(0, str(ROOT / "bench" / "gpu_session"))
    import soups_s5

    diffs = [0.004, 0.01, -0.002, 0.006, 0.008]
    got = soups_s5.paired(diffs)
    low, high = stats.ttest_1samp(diffs, 0.0).confidence_interval(0.95)
    assert got["mean"] == 0.0052 and got["blocks"] == 5
    assert got["ci95"] == [round(float(low), 4), round(float(high), 4)]
    assert soups_s5.paired([0.01])["ci95"] is None
