"""Profiles: params.yaml is the source; conf/ is composed only by scripts/compose_params.py, with one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from conftest import ROOT, composed_params

from nli.core import config, profiles
from nli.core.errors import UserError

SCRIPT = ROOT / "scripts" / "compose_params.py"
# What a small profile may change: how much data, which model, how many steps; the recipe stays the default's.
SIZE_KEYS = {"profile", "split.train_size", "split.val_size", "split.test_size", "model.name"}
SIZE_KEYS |= {"evaluate.batch_size", "train.max_steps", "train.eval_steps", "stress.pairs"}


def compose(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True)


def flat(tree: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in tree.items():
        out.update(flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--profile", "nope"], "error: unknown profile 'nope' (no conf/profile/nope.yaml); profiles: embedded"),
        (["profile=nope"], "error: unknown profile 'nope'"),
        (["train.lrr=0.1"], "error: override 'train.lrr': no such key in conf/config.yaml"),
        (["train.lr=[0.1"], "error: cannot parse override:"),
        (["train.lr"], "error: override 'train.lr' is not key=value"),
    ],
)
def test_bad_profile_key_or_syntax_is_one_error_line_exit_2(tmp_path, args, expected):
    result = compose(*args, "-o", str(tmp_path / "p.yaml"))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(expected) and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "p.yaml").exists()


def test_dash_writes_to_stdout_and_no_file(tmp_path):
    result = compose("--profile", "tiny", "train.lr=0.01", "-o", "-", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    params = yaml.safe_load(result.stdout)
    assert (params["profile"], params["train"]["lr"], params["model"]["name"]) == ("tiny", 0.01, "tiny-llama")
    assert list(tmp_path.iterdir()) == []


def test_committed_params_are_the_default_profile_composed():
    committed = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert committed == yaml.safe_load(composed_params(committed["profile"]))


def test_template_lines_join_to_the_same_prompt_bytes(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(composed_params("embedded-default"))
    assert isinstance(yaml.safe_load(path.read_text())["prompt"]["template"], list)  # one line per value in params
    template = config.load(path, ["prompt"]).prompt.template
    assert template == "Premise: {premise}\nHypothesis: {hypothesis}\nAnswer:"


@pytest.mark.parametrize("profile", ["tiny", "smoke"])
def test_small_profiles_are_the_default_recipe_made_small(profile):
    default = flat(yaml.safe_load(composed_params("embedded-default")))
    small = flat(yaml.safe_load(composed_params(profile)))
    changed = {k for k in default.keys() | small.keys() if default.get(k) != small.get(k)}
    assert changed <= SIZE_KEYS, changed - SIZE_KEYS
    assert small["model.name"] == ("tiny-llama" if profile == "tiny" else "smollm2-135m")


def label(params: dict, name: str) -> dict:
    return {**params, "profile": name}


def test_a_renamed_profile_is_refused_and_an_override_accepted():
    smoke = yaml.safe_load(composed_params("smoke"))
    default = yaml.safe_load(composed_params("embedded-default"))
    conf = ROOT / "conf"
    for params, name, message in [
        (smoke, "embedded-default", "profile = embedded-default but the values are profile smoke's"),
        (default, "smoke", "profile = smoke but none of its values are set"),
        (default, "nope", "profile = 'nope' is not a file of conf/profile/"),
    ]:
        with pytest.raises(UserError, match=message):
            profiles.check_label(label(params, name), conf)
    bigger = {**smoke, "split": {**smoke["split"], "train_size": 800}}
    profiles.check_label(bigger, conf)  # smoke with more training pairs: a legitimate experiment
    for name in profiles.available(conf):
        profiles.check_label(yaml.safe_load(composed_params(name)), conf)
