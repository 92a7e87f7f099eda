"""Names the stages hand each other: the files of an adapter folder and the portable names of base models.

Kept apart from the model code so that the package stage, which only copies an adapter and names its base,
does not rerun when model loading changes.
"""

from __future__ import annotations

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
HUB_ALIASES = {"phi-2": "microsoft/phi-2"}


def base_model_id(name: str) -> str:
    """The portable name of the base model: the hub id for a hub alias, else the name from params.yaml."""
    return HUB_ALIASES.get(name, name)
