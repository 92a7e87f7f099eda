"""Shared fixtures: hermetic (no network), small data made here, tiny random models."""

from __future__ import annotations

import functools
import json
import os
import random
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

# Nothing in the suite may reach a hub: fail fast instead of waiting on the network.
for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ[var] = "1"
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

SUBJECTS = ["A man", "A woman", "Two children", "A dog", "An old man", "A girl", "Three people", "A chef"]
ACTIONS = [
    "is playing a guitar",
    "runs on the beach",
    "is cooking dinner",
    "sits on a bench",
    "rides a bike",
    "is reading a book",
    "climbs a rock",
    "is swimming",
]
HYPOTHESES = {0: "{s} is outside.", 1: "{s} is happy and tall.", 2: "Nobody is {a_ing}."}


def make_pairs(n: int, seed: int = 0) -> list[dict]:
    """Synthetic SNLI-shaped pairs with balanced labels, no (premise, hypothesis) pair twice.

    The scene number (seed and round) keeps pairs made with different seeds apart, as SNLI's
    validation and test pairs are (the split drops repeated pairs).
    """
    rng = random.Random(seed)
    combos = {label: [(s, a) for s in SUBJECTS for a in ACTIONS] for label in range(3)}
    for label in combos:
        rng.shuffle(combos[label])
    rows = []
    for i in range(n):
        label = i % 3
        j = i // 3
        s, a = combos[label][j % len(combos[label])]
        rows.append(
            {
                "premise": f"{s} {a} (scene {seed}.{j // len(combos[label])}).",
                "label": label,
                "hypothesis": HYPOTHESES[label].format(s=s, a_ing=a.split()[-1]),
            }
        )
    return rows


def write_jsonl(path: Path, rows: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    """A raw SNLI folder (validation + test) like the DVC remote's, small."""
    raw = tmp_path / "raw"
    write_jsonl(raw / "validation.jsonl", make_pairs(120, seed=1))
    write_jsonl(raw / "test.jsonl", make_pairs(60, seed=2))
    return raw


@functools.cache
def composed_params(profile: str = "tiny") -> str:
    """conf/ composed with ``profile`` as scripts/compose_params.py writes params.yaml, as YAML text (cached)."""
    from nli.core import profiles

    return profiles.dumps(profiles.compose(ROOT / "conf", profile))


def tiny_params(model: str = "tiny-llama", **overrides) -> dict:
    """The repository's ``tiny`` profile (conf/profile/tiny.yaml), composed; ``section__key=value`` overrides."""
    params = yaml.safe_load(composed_params("tiny"))
    params["prompt"]["template"] = "\n".join(params["prompt"]["template"])  # the text, as config.load gives it
    params["model"]["name"] = model
    for dotted, value in overrides.items():
        section, key = dotted.split("__")
        params[section][key] = value
    return params


@pytest.fixture
def params_file(tmp_path: Path):
    def write(params: dict) -> Path:
        path = tmp_path / "params.yaml"
        path.write_text(yaml.safe_dump(params, sort_keys=False))
        return path

    return write


def four_bit_model(name: str, quant: dict, dtype: str = "fp32"):
    """The bitsandbytes 4-bit model itself (``loading.load`` on CPU dequantizes it once), built as transformers
    would: the reference the NF4-rounded CPU path is compared against."""
    from nli.core import config
    from nli.model import loading, sources

    torch_dtype = loading.DTYPES[dtype]
    quantization = config.model_section(name=name, quantization=quant).quantization
    return loading._from_pretrained(
        sources.resolve(name), torch_dtype, loading.quantization_config(quantization, torch_dtype), "cpu"
    )
