"""Typed params: one dataclass per ``params.yaml`` section, every range and choice declared once, here.

``load(path, sections)`` reads the file once, validates the shared ``seed`` and each section a stage reads, and
returns a :class:`Params` whose sections are those dataclasses (``params.train.lr``); stages pass them on as objects.

Every key is checked before any heavy work: its type (``true`` is not ``"true"``; a bool is not a
number), finite and in range, one of the allowed choices; unknown keys (``train.lrr``,
``model.quantization.double_qunt``) are errors that list the known keys. Each error is one line
naming the file, the param and the fix. The field names and defaults mirror ``conf/config.yaml``,
so the classes can also serve as Hydra structured configs.
"""

from __future__ import annotations

import dataclasses
import math
import string
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from nli.core.errors import UserError

# Values the installed transformers accepts without extra scheduler kwargs / optimizer packages
# (tests/test_config.py checks they are all valid names there).
SCHEDULERS = (
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "constant",
    "constant_with_warmup",
    "inverse_sqrt",
)
OPTIMIZERS = (
    "adamw_torch",
    "adamw_torch_fused",
    "adamw_bnb_8bit",
    "paged_adamw_8bit",
    "paged_adamw_32bit",
    "adafactor",
    "sgd",
    "adagrad",
    "rmsprop",
)


def spec(*, gt=None, ge=None, lt=None, le=None, choices=None, nonempty=False, hint: str = "", **default):
    """A field's constraints (kept in the dataclass field's metadata); ``default=`` makes it optional."""
    meta = dict(gt=gt, ge=ge, lt=lt, le=le, choices=choices, nonempty=nonempty, hint=hint)
    return field(metadata=meta, **default)


@dataclass
class Data:
    source: str = spec(choices=("dvc", "hub"), hint="dvc (the offline remote) or hub")
    hub_dataset: str = spec(nonempty=True)


@dataclass
class Split:
    # at least one pair per label: the draws are stratified by label
    train_size: int | str = spec(ge=3, choices=("all",), hint="a stratified draw needs one pair per label")
    val_size: int | str = spec(ge=3, choices=("all",), hint="a stratified draw needs one pair per label")
    test_size: int | str = spec(ge=3, choices=("all",), hint="a stratified draw needs one pair per label")
    # Which validation set: the pool is cut into disjoint stratified blocks of val_size pairs, and block N is the
    # validation set (block 0 is the usual draw); the training pairs come from the rest, so every block trains on
    # the same number of pairs. Runs over blocks 0..K-1 validate a recipe on K * val_size pairs instead of one
    # block's, for choices finer than one block's standard error.
    val_block: int = spec(ge=0, le=10_000, default=0, hint="0 for the usual validation set, N for the N-th other block")


@dataclass
class Quantization:
    load_in_4bit: bool = spec()
    quant_type: str = spec(choices=("nf4", "fp4"), default="nf4")
    double_quant: bool = spec(default=True)
    # GPU: dequantize the NF4 weights once at load and keep them in the compute dtype (the CPU path always does):
    # the same rounded numbers without a dequantization per layer per forward, for about 4x the weight memory
    materialize: bool = spec(default=False)


@dataclass
class Model:
    name: str = spec(nonempty=True)
    device: str = spec(choices=("auto", "cpu", "cuda"))
    compute_dtype: str = spec(choices=("auto", "bf16", "fp16", "fp32"))
    quantization: Quantization = spec()

    def check(self, where: str) -> None:
        name = self.name
        folder = Path(name).expanduser()
        looks_like_path = name.startswith((".", "/", "~")) or folder.is_dir()
        if looks_like_path and not (folder / "config.json").is_file():
            problem = "is not a folder" if not folder.is_dir() else "is a folder without config.json"
            raise UserError(
                f"{where}.name = {name!r} {problem}; point it at a checkpoint folder (config.json + "
                f"*.safetensors, e.g. from scripts/merge_adapter.py), an alias (smollm2-135m, phi-2, tiny-llama) "
                f"or a hub id owner/name"
            )


@dataclass
class Verbalizers:
    entailment: str = spec(nonempty=True)
    neutral: str = spec(nonempty=True)
    contradiction: str = spec(nonempty=True)


@dataclass
class Prompt:
    # A list of lines (joined with "\n") keeps params one line per value, so `dvc exp show --md` renders one row
    # per experiment; a single string is accepted too. The joined text is what every consumer sees.
    template: str | list[str] = spec(nonempty=True, hint='a list of lines such as ["Premise: {premise}", ...]')
    verbalizers: Verbalizers = spec()
    max_length: int = spec(ge=8, le=1_000_000)

    def check(self, where: str) -> None:
        if isinstance(self.template, list):
            self.template = "\n".join(self.template)
        check_template(self.template, f"{where}.template")


# A batch larger than this holds more pairs than any split here; a size beyond sys.maxsize (1e19) would otherwise
# fail deep inside torch's batch sampler (itertools.islice) with a traceback instead of here.
MAX_BATCH = 100_000


@dataclass
class Evaluate:
    batch_size: int = spec(gt=0, le=MAX_BATCH)
    few_shot_k: int = spec(ge=0)
    # The fine-tuned model scored with its adapter merged into dense base weights (quantization.materialize on a
    # GPU, or any CPU load): one matmul a layer instead of the base's and the adapter's. The merged sums round apart
    # from the unmerged ones in bf16, so off by default: the committed figures are unmerged
    merge_adapter: bool = spec(default=False)


@dataclass
class Train:
    lr: float = spec(gt=0, le=1, hint="e.g. 0.001 for LoRA on CPU, 2e-4 on a GPU")
    epochs: float = spec(ge=0)
    max_steps: int = spec(ge=-1, hint="-1 to train for train.epochs, or a positive step count")
    batch_size: int = spec(gt=0, le=MAX_BATCH)
    grad_accum: int = spec(gt=0, le=MAX_BATCH)
    warmup_ratio: float = spec(ge=0, lt=1, hint="a fraction of the run, e.g. 0.05")
    lr_scheduler: str = spec(choices=SCHEDULERS)
    weight_decay: float = spec(ge=0, le=1)
    optim: str = spec(choices=OPTIMIZERS)
    gradient_checkpointing: bool = spec()
    eval_steps: int = spec(gt=0)
    # Training's own seed (LoRA init, batch order), apart from the top-level seed that draws the split, so a
    # sweep over training seeds keeps the same train/val/test pairs.
    seed: int = spec(ge=0, hint="a non-negative integer such as 42")
    # >1: the train stage relaunches itself under torch.distributed.run on this many GPUs of one host;
    # batch_size stays the batch of one optimizer step, shared among the GPUs
    gpus: int = spec(ge=1, le=1024, default=1)
    # Share of the loss spread evenly over the label tokens (label smoothing over the three answers, not the whole
    # vocabulary): a softer target for a small training set that the adapter otherwise fits to a near-zero loss
    label_smoothing: float = spec(ge=0, lt=1, default=0.0)
    # NEFTune: uniform noise on the input embeddings while training (Trainer's neftune_noise_alpha); 0 turns it off
    neftune_alpha: float = spec(ge=0, le=100, default=0.0)
    # Also train on each contradiction pair read backwards (hypothesis as premise): contradiction is symmetric, so
    # the copy is another correct pair from the same offline pool (nli.train.augment)
    swap_contradictions: bool = spec(default=False)

    def check(self, where: str) -> None:
        if self.batch_size % self.gpus:
            raise UserError(
                f"{where}.batch_size = {self.batch_size} does not split evenly over train.gpus = {self.gpus}; "
                f"use a multiple of {self.gpus}"
            )
        if not (self.epochs > 0 or self.max_steps > 0):
            raise UserError(
                f"{where}.epochs = {self.epochs!r} with max_steps = {self.max_steps!r} trains nothing; "
                f"set train.epochs > 0 or train.max_steps > 0"
            )


@dataclass
class Lora:
    r: int = spec(gt=0, le=4096)
    alpha: float = spec(gt=0)
    dropout: float = spec(ge=0, lt=1)
    target_modules: str | list[str] = spec(nonempty=True, hint="all-linear or a list such as [q_proj, v_proj]")
    top_layers: int = spec(ge=0, hint="0 for every layer, N for the last N")
    # DoRA (peft's use_dora): each adapted weight learns its magnitude apart from its direction; a lever to weigh on
    # validation, off by default (every forward also recomputes the weights' norms)
    use_dora: bool = spec(default=False)


@dataclass
class Compare:
    examples_per_group: int = spec(ge=0)
    bootstrap_samples: int = spec(gt=0)
    # cue words ranked by PMI on the training hypotheses; PMI favours rare words, hence the count floor
    cue_words_per_label: int = spec(gt=0, default=5)
    cue_min_count: int = spec(ge=1, default=10, hint="hypotheses a word must occur in to be a cue word")


@dataclass
class Stress:
    # each pair is scored 5 times (clean + 4 perturbations): the stage's cost grows with pairs
    pairs: int = spec(gt=0, hint="test pairs to perturb, e.g. 150")
    examples: int = spec(ge=0, hint="flipped examples per perturbation in reports/stress.md")


SECTIONS: dict[str, type] = {
    "data": Data,
    "split": Split,
    "model": Model,
    "prompt": Prompt,
    "evaluate": Evaluate,
    "train": Train,
    "lora": Lora,
    "compare": Compare,
    "stress": Stress,
}
TOP_LEVEL = {"seed", "profile", *SECTIONS}


@dataclass(frozen=True)
class Params:
    """What a stage reads from a params file: where it came from, the shared ``seed`` and the sections it asked
    for (a section it did not ask for is None, so a stage cannot silently use params its DVC stage does not list)."""

    path: Path
    seed: int
    data: Data | None = None
    split: Split | None = None
    model: Model | None = None
    prompt: Prompt | None = None
    evaluate: Evaluate | None = None
    train: Train | None = None
    lora: Lora | None = None
    compare: Compare | None = None
    stress: Stress | None = None

    def sections(self, names: list[str]) -> dict:
        """The named sections as plain dicts (for hashing and run logs)."""
        return {name: dataclasses.asdict(getattr(self, name)) for name in names}


_PARAMS_PATH = ["params.yaml"]  # the params file this process read: later errors (model loading) name it


def shown_path() -> str:
    """The params file this process loaded (``--params``), for errors found after loading (device, model)."""
    return _PARAMS_PATH[0]


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader minus what never belongs in params: a key given twice (YAML keeps the later value
    without a word) and aliases (``*name``), which can expand a 1 KB file into more than memory holds."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise UserError(
                f"{self.name}:{mark.line + 1}: a YAML alias (*{self.peek_event().anchor}); params take plain values, "
                f"so write the value out instead of an anchor and alias"
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:
                continue  # an unhashable key: YAML's own error follows
            if first != key_node.start_mark.line + 1:
                raise UserError(
                    f"{self.name}:{key_node.start_mark.line + 1}: duplicate key {key!r} (first on line {first}); "
                    f"YAML would keep only the later value, so delete one of them"
                )
        return super().construct_mapping(node, deep)


def read_yaml(path: Path):
    """A params file's contents through :class:`_StrictLoader` (duplicate keys and aliases are errors)."""
    loader = _StrictLoader(path.read_text(encoding="utf-8"))
    loader.name = str(path)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load(path: str | Path, sections: list[str]) -> Params:
    """Read ``path``, validate ``seed`` and ``sections``; return them typed."""
    raw, typed = _read_and_parse(path, sections)
    return Params(path=Path(path), seed=raw["seed"], **typed)


def section(name: str, values: dict):
    """One validated section from a mapping (for code that builds params without a file: tests, benchmarks)."""
    return build(SECTIONS[name], values, name)


def model_section(**values) -> Model:
    """A validated ``model`` section from keyword values, the file's defaults filling the rest (for code that
    builds a model without a params file: tests, benchmarks)."""
    defaults = {"device": "auto", "compute_dtype": "auto", "quantization": {"load_in_4bit": False}}
    return build(Model, {**defaults, **values}, "model")


def _read_and_parse(path, sections) -> tuple[dict, dict]:
    path = Path(path)
    _PARAMS_PATH[0] = str(path)
    if path.is_dir():
        raise UserError(f"{path} is a folder; --params takes a params file such as params.yaml")
    try:
        params = read_yaml(path)
    except FileNotFoundError:
        raise UserError(f"{path} not found; run from the repository root or pass --params") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML ({' '.join(str(exc).split())}); fix the syntax there") from None
    if not isinstance(params, dict):
        raise UserError(f"{path}: expected a mapping of sections (seed, data, split, model, ...)")
    unknown = set(params) - TOP_LEVEL
    if unknown:
        raise UserError(
            f"{path}: unknown section(s) {', '.join(sorted(map(str, unknown)))}; known: {', '.join(sorted(TOP_LEVEL))}"
        )
    seed = params.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise UserError(f"{path}: seed = {_shown(seed)}; use a non-negative integer such as 42")
    typed = {}
    for name in sections:
        if name not in SECTIONS:
            raise ValueError(f"unknown params section {name!r}")  # a programming error, not a user's
        typed[name] = build(SECTIONS[name], params.get(name), f"{path}: {name}")
    return params, typed


def build(cls: type, values, where: str):
    """Validate ``values`` (a mapping) against dataclass ``cls``; ``where`` prefixes every message."""
    if not isinstance(values, dict):
        shown = "missing" if values is None else f"a {type(values).__name__}, not a mapping"
        raise UserError(f"{where} is {shown}; it needs the keys {', '.join(f.name for f in dataclasses.fields(cls))}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(map(str, values)) - set(fields))
    if unknown:
        raise UserError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(fields)} (check the spelling)"
        )
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, f in fields.items():
        if name not in values and f.default is not dataclasses.MISSING:
            kwargs[name] = f.default
            continue
        if name not in values:
            raise UserError(f"{where}.{name} is missing; add it (see conf/config.yaml for the default)")
        kwargs[name] = _check_value(values[name], hints[name], f.metadata, f"{where}.{name}")
    obj = cls(**kwargs)
    if hasattr(obj, "check"):
        obj.check(where)
    return obj


def _shown(value) -> str:
    """A value for an error message, cut short: a params value can be arbitrarily large."""
    import reprlib

    short = reprlib.Repr()
    short.maxlevel, short.maxlist, short.maxdict, short.maxstring, short.maxother = 3, 6, 6, 80, 80
    return short.repr(value)


def _check_value(value, hint, meta: dict, where: str):
    if dataclasses.is_dataclass(hint):
        return build(hint, value, where)
    choices, hint_text = meta.get("choices"), meta.get("hint") or ""
    fix = f" ({hint_text})" if hint_text else ""
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, _UnionType) else (hint,)
    if isinstance(value, str) and str in options:
        if choices and value not in choices:
            wanted = ", ".join(choices) + (" or a positive integer" if int in options else "")
            raise UserError(f"{where} = {_shown(value)} is not allowed; use one of: {wanted}{fix}")
        if meta.get("nonempty") and not value.strip():
            raise UserError(f"{where} is empty; give it a value{fix}")
        return value
    if typing.get_origin(list[str]) in [typing.get_origin(o) for o in options] and isinstance(value, list):
        if not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise UserError(f"{where} = {_shown(value)}; use a non-empty list of non-empty strings{fix}")
        return value
    if isinstance(value, bool):
        if bool in options:
            return value
        raise UserError(f"{where} = {_shown(value)} is a boolean; use {_describe(options, meta)}{fix}")
    if bool in options:
        raise UserError(f"{where} = {_shown(value)} must be true or false (unquoted YAML booleans)")
    number_ok = (int in options and isinstance(value, int)) or (float in options and isinstance(value, (int, float)))
    if not number_ok:
        raise UserError(f"{where} = {_shown(value)} ({type(value).__name__}); use {_describe(options, meta)}{fix}")
    if not math.isfinite(value):
        raise UserError(f"{where} = {_shown(value)} is not a finite number; use {_describe(options, meta)}{fix}")
    for key, ok in (("gt", float.__gt__), ("ge", float.__ge__), ("lt", float.__lt__), ("le", float.__le__)):
        bound = meta.get(key)
        if bound is not None and not ok(float(value), float(bound)):
            raise UserError(f"{where} = {_shown(value)} is out of range; use {_describe(options, meta)}{fix}")
    return value


_UnionType = type(int | str)


def _describe(options, meta: dict) -> str:
    kinds = []
    if int in options and float not in options:
        kinds.append("an integer")
    if float in options:
        kinds.append("a number")
    bounds = [
        f"{sym} {meta[k]}"
        for k, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="))
        if meta.get(k) is not None
    ]
    text = " or ".join(kinds) or "a value"
    if bounds:
        text += " " + " and ".join(bounds)
    if meta.get("choices"):
        text += f" or one of {', '.join(meta['choices'])}"
    if str in options and not meta.get("choices"):
        text += " or a string"
    return text


def check_template(template: str, where: str | None = None) -> str:
    """The template must hold exactly ``{premise}`` and ``{hypothesis}``; a stray brace is an error."""
    where = where or f"{shown_path()}: prompt.template"
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise UserError(
            f"{where}: {exc} in {template[:60]!r}; write a literal brace as {{{{ or }}}} and the "
            f"placeholders as {{premise}} and {{hypothesis}}"
        ) from None
    fields = sorted({f for _, f, _, _ in parsed if f is not None})
    specs = [f for _, f, spec, conv in parsed if f is not None and (spec or conv)]
    if fields != ["hypothesis", "premise"] or specs:
        raise UserError(
            f"{where} must contain exactly the placeholders {{premise}} and {{hypothesis}} (no format specs); "
            f"found {fields or 'none'}. Write a literal brace as {{{{ or }}}}"
        )
    return template
