"""What ``predict`` skips at start-up: imports that this process would load but never call."""

from __future__ import annotations

import sys
from pathlib import Path

from nli.model import loading, sources


def skip_unused_bitsandbytes(model_params: dict) -> bool:
    """In a process that loads only this model (``predict``): if it loads on CPU without quantizing (a cached
    ``nf4_rounded`` base, or no quantization), block the bitsandbytes import. PEFT imports it whenever it is
    installed, and its import sets up torch.compile: 1 s of a 7 s cold start. Returns whether it was blocked."""
    if "bitsandbytes" in sys.modules or loading.pick_device(model_params.get("device", "auto")) != "cpu":
        return False
    quant = model_params.get("quantization", {}) or {}
    if quant.get("load_in_4bit"):
        source = sources.resolve(model_params["name"])
        dtype = loading.pick_dtype(model_params.get("compute_dtype", "auto"), "cpu")
        if not Path(source).is_dir() or not loading.nf4_rounded_ready(source, quant, dtype):
            return False
    sys.modules["bitsandbytes"] = None  # `import bitsandbytes` now raises ImportError; PEFT then goes without
    return True
