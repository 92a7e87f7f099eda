"""The adapter folder the train stage writes, made the same bytes on every machine.

PEFT writes the base model's *local* path into adapter_config.json (and a template README with it), so the
adapter's bytes, and its DVC hash, differed per machine and user.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from nli.core.artifacts import base_model_id


def canonicalize_adapter(folder: str | os.PathLike, model_name: str) -> None:
    """Make a folder PEFT's ``save_pretrained`` wrote the same bytes on every machine.

    ``base_model_name_or_path`` becomes ``base_model_id(model_name)`` (never a cache path);
    ``target_modules`` (a set inside PEFT, so ordered by the per-process hash seed) is sorted, keys
    too; PEFT's template README (which embeds the local path) is removed.
    """
    folder = Path(folder)
    path = folder / "adapter_config.json"
    config = json.loads(path.read_text())
    config["base_model_name_or_path"] = base_model_id(model_name)
    if isinstance(config.get("target_modules"), list):
        config["target_modules"] = sorted(config["target_modules"])
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    (folder / "README.md").unlink(missing_ok=True)
