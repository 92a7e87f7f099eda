"""What ``predict`` skips at start-up: imports that this process would load but never call."""

from __future__ import annotations

import sys
from pathlib import Path

from nli.core import config
from nli.model import loading, sources


def skip_unused_bitsandbytes(model: config.Model) -> bool:
    """In a process that loads only this model (``predict``): if it loads on CPU without quantizing (a cached
    ``nf4_rounded`` base, or no quantization), block the bitsandbytes import. PEFT imports it whenever it is
    installed, and its import sets up torch.compile. Returns whether it was blocked."""
    if "bitsandbytes" in sys.modules:
        return False
    run = loading.runtime(model)
    if run.device != "cpu":
        return False
    if run.quantization is not None:
        source = sources.resolve(model.name)
        if (
            not Path(source).is_dir()
            or not loading.nf4_rounded(source, run.quantization, run.dtype, build=False).is_dir()
        ):
            return False
    sys.modules["bitsandbytes"] = None  # `import bitsandbytes` now raises ImportError; PEFT then goes without
    return True
