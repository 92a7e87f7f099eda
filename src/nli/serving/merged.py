"""``predict --stream``'s model: the adapter merged into the NF4-rounded base once, and cached.

On CPU the frozen base is the NF4-rounded weights in bf16 (``loading.nf4_rounded``). Merged into them
(PEFT's ``merge_and_unload``, as ``scripts/merge_adapter.py`` does), a pair runs without the LoRA matmuls and their
adds (faster per pair: ``bench/predict_bench.py``, docs/performance.md), with ``evaluate_finetuned``'s labels up to
bf16 batch effects. Saved once per base and adapter bytes, a later start loads it like any base and never loads PEFT.
Only the newest merge of a base is kept (each is the size of the base).
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from importlib.metadata import version
from pathlib import Path

from nli.core import config
from nli.model import adapters, loading, sources


def merged_model_params(model: config.Model, adapter: str) -> config.Model | None:
    """``params.yaml: model`` for the cached merge of ``adapter`` into this base, built on first use; None where
    the base is not loaded as NF4-rounded weights on CPU (there the adapter stays apart)."""
    source, run = sources.resolve(model.name), loading.runtime(model)
    if not run.dequantize_once or not Path(source).is_dir():
        return None
    rounded = loading.nf4_rounded(source, run.quantization, run.dtype)
    folder = adapters.check_adapter_folder(adapter)
    key = hashlib.sha256(f"{rounded.name}:peft {version('peft')}".encode())
    for name in adapters.ADAPTER_FILES:
        key.update((folder / name).read_bytes())
    target = sources.cache_dir() / f"{rounded.name}-merged-{key.hexdigest()[:12]}"

    def merge(tmp: Path) -> None:
        loaded = loading.load(model)
        adapters.load_adapter(loaded.model, folder).merge_and_unload().save_pretrained(tmp, safe_serialization=True)
        loaded.tokenizer.save_pretrained(tmp)

    if sources.cache_problem(target) is not None:  # not built yet, or damaged since: (re)built whole
        sources.cached(target, merge)
        for old in target.parent.glob(f"{rounded.name}-merged-*"):
            if old != target:
                shutil.rmtree(old, ignore_errors=True)
    return dataclasses.replace(model, name=str(target), quantization=config.Quantization(load_in_4bit=False))
