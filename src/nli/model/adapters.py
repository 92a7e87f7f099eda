"""LoRA adapter folders and the 4-bit layers an adapter is merged into: check, load, dequantize.

An adapter path is always a local folder (a mistyped path is an error, never a hub lookup), and an
adapter trained for another base model is one clear error, not a size-mismatch traceback.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from nli.core import integrity
from nli.core.artifacts import ADAPTER_FILES
from nli.core.errors import UserError

RESTORE = "retrain it (`dvc repro train`) or restore it (`dvc checkout models/adapter`)"


def load_adapter(model: torch.nn.Module, path: str | os.PathLike):
    """``model`` with the PEFT adapter in folder ``path`` (inference mode).

    The folder must exist and hold a safetensors PEFT adapter: a mistyped path is an error, never a
    hub lookup. An adapter trained for another base model (layer shapes or module names differ) is
    one clear error naming what the adapter was trained on.
    """
    from peft import PeftModel

    folder = check_adapter_folder(path)  # also: whole files, a LoRA config that agrees with its weights
    base = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8")).get("base_model_name_or_path")
    trained_on = f" (adapter_config.json: base_model_name_or_path = {base!r})" if base else ""
    try:
        # low_cpu_mem_usage: the LoRA weights are created empty, not randomly initialised and then overwritten
        peft_model = PeftModel.from_pretrained(model, str(folder), is_trainable=False, low_cpu_mem_usage=True)
    except (RuntimeError, ValueError, KeyError) as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        detail = next((line for line in lines if "size mismatch" in line), lines[0] if lines else type(exc).__name__)
        raise UserError(
            f"adapter {folder} does not fit model {getattr(model.config, 'name_or_path', '?')!r}: it was trained "
            f"for another base model{trained_on} ({detail[:200]}); set model.name to the base it was trained on"
        ) from None
    empty = [name for name, p in peft_model.named_parameters() if "lora_" in name and p.device.type == "meta"]
    if empty:  # PEFT only warns about weights the file lacks; left empty they would compute garbage
        raise UserError(
            f"{folder / ADAPTER_FILES[1]} is missing {len(empty)} of the LoRA weights its config asks for (e.g. "
            f"{empty[0]}): the file is incomplete; {RESTORE}"
        )
    return peft_model


def check_adapter_folder(path: str | os.PathLike) -> Path:
    """The adapter folder as a Path, if it exists and holds a safetensors PEFT adapter (cheap: no loading)."""
    folder = Path(path).expanduser()
    if folder.is_file():
        raise UserError(
            f"adapter {str(path)!r} is a file, not a folder; pass the folder that holds {' and '.join(ADAPTER_FILES)}"
        )
    if not folder.is_dir():
        raise UserError(
            f"adapter folder {str(path)!r} not found; train one first (`dvc repro train` writes models/adapter) "
            f"or pass the folder that holds adapter_config.json"
        )
    missing = [name for name in ADAPTER_FILES if not (folder / name).is_file()]
    if missing:
        raise UserError(
            f"{folder} is not a PEFT adapter folder: {', '.join(missing)} missing (saved adapters hold "
            f"{' and '.join(ADAPTER_FILES)}); pass the folder the train stage wrote"
        )
    check_adapter_files(folder)
    return folder


def check_adapter_files(folder: Path) -> None:
    """The adapter's two files are whole and agree: a LoRA config, and weights of the rank it names."""
    config_file, weights = folder / ADAPTER_FILES[0], folder / ADAPTER_FILES[1]
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"{config_file} is not valid JSON ({str(exc)[:100]}); {RESTORE}") from None
    if not isinstance(config, dict) or config.get("peft_type") != "LORA":
        got = config.get("peft_type") if isinstance(config, dict) else type(config).__name__
        raise UserError(f"{config_file}: peft_type = {got!r}, but this project loads LoRA adapters only; {RESTORE}")
    try:
        header = integrity.safetensors_header(weights)
    except ValueError as exc:
        raise UserError(f"{weights} is damaged ({exc}); {RESTORE}") from None
    rank, patterns = config.get("r"), config.get("rank_pattern") or {}
    if isinstance(rank, int) and not patterns:
        for name, info in header.items():
            shape = info.get("shape") if isinstance(info, dict) else None
            got = shape[0] if "lora_A" in name and shape else shape[-1] if "lora_B" in name and shape else rank
            if got != rank:
                raise UserError(
                    f"{folder}: {config_file.name} says r = {rank} but {weights.name} holds rank-{got} weights "
                    f"({name}): the two files come from different runs; {RESTORE}"
                )


def dequantize_4bit_layers(model: torch.nn.Module, dtype: torch.dtype = torch.float32) -> int:
    """Replace every bitsandbytes ``Linear4bit`` with a plain frozen ``nn.Linear`` of its NF4-rounded weights.

    On CPU ``load`` does this once at load time: bitsandbytes' CPU path dequantizes every layer on every
    forward (bench/cpu_bench.py); the numbers are the same.

    The result computes what the 4-bit model computes (the same rounded weights), so an adapter merged
    into it matches the evaluated NF4 + adapter model; merging into the original float weights would
    not. Transformers' own ``dequantize`` does the work (bitsandbytes' ``dequantize_4bit`` per layer, cast to
    ``dtype``) and removes the quantization config, so ``save_pretrained`` writes plain safetensors. Returns the
    number of layers replaced (0 for a model without 4-bit layers).
    """
    try:
        import bitsandbytes as bnb
    except ImportError:
        return 0
    four_bit = [name for name, m in model.named_modules() if isinstance(m, bnb.nn.Linear4bit)]
    if not four_bit:
        return 0
    model.dequantize(dtype=dtype)
    for name in four_bit:
        model.get_submodule(name).requires_grad_(False)  # frozen, as the 4-bit layers were
    # transformers' dequantize leaves this flag set; PEFT would then still prepare the model as a 4-bit one
    # (docs/internals.md)
    model.is_loaded_in_4bit = False
    return len(four_bit)
