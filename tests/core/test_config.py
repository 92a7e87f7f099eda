"""Typed params: every section of every profile parses; each bad value is one clear error naming the param."""

from __future__ import annotations

import copy

import pytest
import yaml
from conftest import composed_params, tiny_params

from nli.core import config
from nli.core.errors import UserError

PROFILES = ["tiny", "smoke", "embedded-default", "embedded-full", "phi2-recommended", "phi2-report"]


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_parses(tmp_path, profile):
    path = tmp_path / "params.yaml"
    path.write_text(composed_params(profile))
    typed = config.load(path, list(config.SECTIONS))
    assert isinstance(typed.train, config.Train) and isinstance(typed.model.quantization, config.Quantization)
    plain = yaml.safe_load(path.read_text())

    def within(file_values, typed_values):  # every value the file gives is what the stage sees (defaults add keys)
        return all(
            within(v, typed_values[k]) if isinstance(v, dict) else typed_values[k] == v for k, v in file_values.items()
        )

    if isinstance(plain["prompt"]["template"], list):  # a list of lines in the file, joined
        plain["prompt"]["template"] = "\n".join(plain["prompt"]["template"])
    assert within({name: plain[name] for name in config.SECTIONS}, typed.sections(list(config.SECTIONS)))
    assert typed.seed == plain["seed"] and typed.path == path


def test_a_stage_sees_only_the_sections_it_asked_for(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(composed_params("tiny"))
    params = config.load(path, ["data", "split"])
    assert params.split is not None and params.train is None and params.model is None


BAD = [
    ("train.lr", float("nan"), "train.lr = nan is not a finite number"),
    ("train.lr", float("inf"), "train.lr = inf is not a finite number"),
    ("train.lr", 0, "train.lr = 0 is out of range"),
    ("train.lr", "1e-3", "train.lr = '1e-3' (str)"),
    ("train.lr_scheduler", "cosinus", "train.lr_scheduler = 'cosinus' is not allowed; use one of: linear, cosine"),
    ("train.optim", "adamz", "train.optim = 'adamz' is not allowed; use one of: adamw_torch"),
    ("train.warmup_ratio", 2.0, "train.warmup_ratio = 2.0 is out of range"),
    ("train.warmup_ratio", 1, "train.warmup_ratio = 1 is out of range"),
    ("train.epochs", -1, "train.epochs = -1 is out of range"),
    ("train.batch_size", True, "train.batch_size = True is a boolean"),
    ("train.lrr", 0.1, "train: unknown key(s) lrr; known keys: lr, epochs"),
    ("model.quantization.quant_type", "nf5", "quant_type = 'nf5' is not allowed; use one of: nf4, fp4"),
    ("model.quantization.double_qunt", True, "model.quantization: unknown key(s) double_qunt; known keys:"),
    ("model.quantization.load_in_4bit", "false", "load_in_4bit = 'false' must be true or false"),
    ("model.compute_dtype", "float16", "model.compute_dtype = 'float16' is not allowed"),
    ("model.device", "gpu", "model.device = 'gpu' is not allowed; use one of: auto, cpu, cuda"),
    ("model.name", "/etc", "model.name = '/etc' is a folder without config.json"),
    ("model.name", "./no/such/folder", "model.name = './no/such/folder' is not a folder"),
    ("prompt.template", "P: {premise} H: {hypothesis} {", "Single '{' encountered"),
    ("prompt.template", "P: {premise} H: {hypothesis} {label}", "found ['hypothesis', 'label', 'premise']"),
    ("prompt.verbalizers.entailment", "", "prompt.verbalizers.entailment is empty"),
    ("prompt.verbalizers.entail", " yes", "unknown key(s) entail"),
    ("prompt.max_length", 4, "prompt.max_length = 4 is out of range"),
    ("split.val_size", 0, "split.val_size = 0 is out of range"),
    ("split.val_size", "some", "split.val_size = 'some' is not allowed; use one of: all or a positive integer"),
    ("lora.dropout", 1.0, "lora.dropout = 1.0 is out of range"),
    ("lora.target_modules", [], "lora.target_modules = []"),
    ("lora.top_layers", -1, "lora.top_layers = -1 is out of range"),
    ("evaluate.few_shot_k", -2, "evaluate.few_shot_k = -2 is out of range"),
    ("data.source", "s3", "data.source = 's3' is not allowed; use one of: dvc, hub"),
    ("compare.bootstrap_samples", 0, "compare.bootstrap_samples = 0 is out of range"),
    ("seed", -1, "seed = -1; use a non-negative integer"),
    ("train.seed", -1, "train.seed = -1 is out of range"),
    ("train.seed", 1.5, "train.seed = 1.5 (float); use an integer"),
]


@pytest.mark.parametrize("dotted,value,message", BAD, ids=[f"{d}={v!r}" for d, v, _ in BAD])
def test_bad_values_are_one_line_errors_naming_file_and_param(tmp_path, dotted, value, message):
    params = tiny_params()
    *path, key = dotted.split(".")
    section = params
    for part in path:
        section = section[part]
    section[key] = value
    file = tmp_path / "params.yaml"
    file.write_text(yaml.safe_dump(params))
    with pytest.raises(UserError) as err:
        config.load(file, list(config.SECTIONS))
    text = str(err.value)
    assert message in text and text.startswith(str(file)) and "\n" not in text


def test_zero_epochs_without_max_steps_trains_nothing(tmp_path):
    params = copy.deepcopy(tiny_params(train__epochs=0, train__max_steps=-1))
    file = tmp_path / "params.yaml"
    file.write_text(yaml.safe_dump(params))
    with pytest.raises(UserError, match=r"train.epochs = 0 with max_steps = -1 trains nothing"):
        config.load(file, ["train"])
    params["train"]["max_steps"] = 5  # max_steps alone is a valid run
    file.write_text(yaml.safe_dump(params))
    assert config.load(file, ["train"]).train.max_steps == 5


def test_unknown_section_and_only_requested_sections_are_checked(tmp_path):
    params = tiny_params()
    params["train"]["lr"] = float("nan")
    file = tmp_path / "params.yaml"
    file.write_text(yaml.safe_dump(params))
    assert config.load(file, ["data", "split"]).split.val_size == 24  # split does not read train
    params["trian"] = {}
    file.write_text(yaml.safe_dump(params))
    with pytest.raises(UserError, match="unknown section"):
        config.load(file, ["data"])


def test_allowed_choices_are_valid_for_transformers():
    from transformers.trainer_utils import SchedulerType
    from transformers.training_args import OptimizerNames

    assert set(config.SCHEDULERS) <= {s.value for s in SchedulerType}
    assert set(config.OPTIMIZERS) <= {o.value for o in OptimizerNames}


def test_max_length_is_checked_against_the_templates_own_tokens():
    from nli.model import loading, prompts

    tok = loading.load(tiny_params()["model"]).tokenizer
    template = tiny_params()["prompt"]["template"]
    own = prompts.check_max_length(tok, template, 256)
    assert own == len(tok(template.format(premise="", hypothesis=""), add_special_tokens=False)["input_ids"])
    with pytest.raises(UserError, match=rf"the template alone is {own} tokens.*at least {own + 8}"):
        prompts.check_max_length(tok, template, own + 2)


def test_a_key_given_twice_is_an_error_naming_both_lines(tmp_path):
    path = tmp_path / "other.yaml"
    path.write_text("seed: 1\ntrain:\n  lr: 0.1\n  lr: 0.2\n")
    with pytest.raises(UserError, match=r"other.yaml:4: duplicate key 'lr' \(first on line 3\)"):
        config.load(path, [])


def test_yaml_aliases_are_refused_before_they_expand(tmp_path):
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    bomb += [f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi")]
    path = tmp_path / "bomb.yaml"
    path.write_text("seed: 1\nbombs:\n" + "\n".join("  " + line for line in bomb) + "\n")
    with pytest.raises(UserError, match=r"bomb.yaml:4: a YAML alias \(\*a\)"):
        config.load(path, [])
