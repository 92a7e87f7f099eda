"""The packaged model (``models/snli-nli-adapter`` or a merged folder) loaded from its folder alone, anywhere.

The package stage writes the scoring recipe (base model params, prompt, batch size) beside the adapter; with it,
and the project's package installed, a user outside the repository scores pairs exactly as ``evaluate_finetuned``
did: the same converted base, quantization, prompt and scorer (``nli.model.scoring``), no params.yaml needed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nli.core import config
from nli.core.artifacts import ADAPTER_FILES, SCORING_FILE
from nli.core.errors import UserError
from nli.core.labels import LABELS
from nli.model import scoring, temperature


def labelled(pairs: list[dict], logprobs: np.ndarray, temp: float = 1.0) -> list[dict]:
    """Each pair with its predicted label and the probability of each label (over the three label tokens), the
    logits divided by the fitted temperature ``temp`` first (``nli.model.temperature``)."""
    probs = temperature.probabilities(logprobs, temp)
    return [
        {
            **pair,
            "predicted": LABELS[int(p.argmax())],
            **{f"p_{n}": round(float(p[i]), 5) for i, n in enumerate(LABELS)},
        }
        for pair, p in zip(pairs, probs)
    ]


@dataclass
class Packaged:
    """A packaged model, loaded: ``predict`` labels premise/hypothesis pairs."""

    classifier: scoring.Classifier
    temperature: float = 1.0  # fitted on validation by evaluate_finetuned (temperature.json beside the adapter)

    def predict(self, pairs: list[dict]) -> list[dict]:
        """Pairs (dicts with ``premise`` and ``hypothesis``) scored in batches as the evaluate stages do."""
        logprobs, _ = self.classifier.score(pairs, desc="predict", progress=False)
        return labelled(pairs, logprobs, self.temperature)


def load(folder: str | os.PathLike) -> Packaged:
    """The model in ``folder``: a packaged adapter (base from the recipe + the adapter) or a merged model."""
    folder = Path(folder).expanduser()
    recipe_path = folder / SCORING_FILE
    if not recipe_path.is_file():
        raise UserError(
            f"{folder}: no {SCORING_FILE}; pass a folder the package stage (models/snli-nli-adapter) or "
            f"scripts/merge_adapter.py wrote"
        )
    try:
        recipe = json.loads(recipe_path.read_text(encoding="utf-8"))
        model, prompt, batch_size = dict(recipe["model"]), recipe["prompt"], int(recipe["batch_size"])
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{recipe_path}: not a valid scoring recipe ({exc}); package the model again") from None
    is_adapter = all((folder / name).is_file() for name in ADAPTER_FILES)
    if not is_adapter:  # a merged model: the recipe names its own folder as "."
        model["name"] = str(folder / model["name"])
    classifier = scoring.load_classifier(
        config.section("model", model),
        config.section("prompt", prompt),
        batch_size=batch_size,
        adapter=str(folder) if is_adapter else None,
        params_path=recipe_path,
    )
    scaling = folder / "temperature.json"
    return Packaged(classifier, temperature.read(scaling) if scaling.is_file() else 1.0)
