"""params.yaml: load it and check every section a stage reads before any heavy work.

Each key has an expected type; an unknown key (a typo such as ``train.lrr``) or a value of the
wrong type is an error naming the key and the fix, not a crash an hour later.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import UserError

NUM = (int, float)
SCHEMA: dict[str, dict[str, tuple]] = {
    "data": {"source": (str,), "hub_dataset": (str,)},
    "split": {"train_size": (int, str), "val_size": (int, str), "test_size": (int, str)},
    "model": {"name": (str,), "device": (str,), "compute_dtype": (str,), "quantization": (dict,)},
    "prompt": {"template": (str,), "verbalizers": (dict,), "max_length": (int,)},
    "evaluate": {"batch_size": (int,), "few_shot_k": (int,)},
    "train": {
        "lr": NUM,
        "epochs": NUM,
        "max_steps": (int,),
        "batch_size": (int,),
        "grad_accum": (int,),
        "warmup_ratio": NUM,
        "lr_scheduler": (str,),
        "weight_decay": NUM,
        "optim": (str,),
        "gradient_checkpointing": (bool,),
        "eval_steps": (int,),
    },
    "lora": {"r": (int,), "alpha": NUM, "dropout": NUM, "target_modules": (str, list), "top_layers": (int,)},
    "compare": {"examples_per_group": (int,), "bootstrap_samples": (int,)},
}
POSITIVE = {
    "prompt.max_length",
    "evaluate.batch_size",
    "train.batch_size",
    "train.grad_accum",
    "train.lr",
    "train.eval_steps",
    "lora.r",
    "compare.bootstrap_samples",
}


def load(path: str | Path, sections: list[str]) -> dict:
    """Read ``path`` and validate ``sections`` (plus the shared ``seed``); return the whole dict."""
    path = Path(path)
    try:
        params = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{path} not found; run from the repository root") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(params, dict):
        raise UserError(f"{path}: expected a mapping of sections")
    seed = params.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise UserError(f"{path}: 'seed' = {seed!r} must be a non-negative integer")
    for section in sections:
        check_section(path, section, params.get(section))
    return params


def check_section(path: Path, section: str, values) -> None:
    schema = SCHEMA[section]
    if not isinstance(values, dict):
        raise UserError(f"{path}: section '{section}' is missing or not a mapping")
    unknown = set(values) - set(schema)
    if unknown:
        raise UserError(
            f"{path}: unknown key(s) {', '.join(f'{section}.{k}' for k in sorted(unknown))}; "
            f"known keys: {', '.join(sorted(schema))}"
        )
    for key, types in schema.items():
        if key not in values:
            raise UserError(f"{path}: {section}.{key} is missing")
        value = values[key]
        if isinstance(value, bool) and bool not in types or not isinstance(value, types):
            names = " or ".join(t.__name__ for t in types)
            raise UserError(f"{path}: {section}.{key} = {value!r} should be {names}")
        if f"{section}.{key}" in POSITIVE and value <= 0:
            raise UserError(f"{path}: {section}.{key} = {value!r} must be positive")
    if section == "data" and values["source"] not in ("dvc", "hub"):
        raise UserError(f"{path}: data.source = {values['source']!r}; use dvc (offline remote) or hub")
    if section == "compare" and values["examples_per_group"] < 0:
        raise UserError(f"{path}: compare.examples_per_group = {values['examples_per_group']} must be >= 0")
    if section == "lora" and values["top_layers"] < 0:
        raise UserError(f"{path}: lora.top_layers = {values['top_layers']} must be 0 (every layer) or positive")
    if section == "lora" and not 0 <= values["dropout"] < 1:
        raise UserError(f"{path}: lora.dropout = {values['dropout']} must be in [0, 1)")
