"""Temperature scaling: the fit recovers a known temperature, never changes the argmax, and the file round-trips."""

from __future__ import annotations

import numpy as np
import pytest

from nli.core.errors import UserError
from nli.model import temperature


def test_fit_recovers_the_temperature_that_generated_the_labels(tmp_path):
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3.0, size=(4000, 3))
    # labels drawn from softmax(logits / 2): the model's raw logits are twice too sharp
    probs = temperature.probabilities(logits, 2.0)
    labels = np.array([rng.choice(3, p=p) for p in probs])
    fitted = temperature.fit(logits, labels)
    assert fitted == pytest.approx(2.0, rel=0.1)
    assert temperature.nll(logits, labels, fitted) < temperature.nll(logits, labels)
    assert (temperature.probabilities(logits, fitted).argmax(1) == logits.argmax(1)).all()
    record = temperature.write(tmp_path / "t.json", fitted, logits, labels)
    assert temperature.read(tmp_path / "t.json") == fitted and record["nll_after"] < record["nll_before"]


def test_bad_temperature_files_are_one_line_errors(tmp_path):
    for content, words in (("{}", "not a temperature file"), ('{"temperature": -1}', "positive number")):
        path = tmp_path / "t.json"
        path.write_text(content)
        with pytest.raises(UserError, match=words):
            temperature.read(path)
    with pytest.raises(UserError, match="not found"):
        temperature.read(tmp_path / "missing.json")
