"""Prompt template and label verbalizers: how an NLI pair becomes text and a label becomes a token.

The model answers with one token after the prompt; a label's score is the log-probability of the
first token of its verbalizer at that position (restricted label scoring). Training uses the same
prompt and the same token as its target, so baseline, training and evaluation agree by construction.
"""

from __future__ import annotations

import random

from nli.core import config
from nli.core.config import check_template, shown_path
from nli.core.errors import UserError
from nli.core.labels import LABELS

__all__ = ["LABELS", "check_max_length", "check_template", "few_shot_prefix", "format_prompt", "label_token_ids"]

MIN_PAIR_TOKENS = 8  # room a premise and a hypothesis need at the very least


def check_max_length(tokenizer, template: str, max_length: int, params_path: str = "params.yaml") -> int:
    """``max_length`` must leave room for a pair after the template's own tokens; return the template's count.

    Prompts longer than ``max_length`` lose tokens from the left, so a limit at or under the template's
    own length would silently cut every premise away.
    """
    own = len(tokenizer(format_prompt(template, "", ""), add_special_tokens=False)["input_ids"])
    if max_length < own + MIN_PAIR_TOKENS:
        raise UserError(
            f"{params_path}: prompt.max_length = {max_length} but the template alone is {own} tokens, so every "
            f"prompt would be cut; "
            f"set it to at least {own + MIN_PAIR_TOKENS} (SNLI pairs need about {own + 64})"
        )
    return own


def format_prompt(template: str, premise: str, hypothesis: str, prefix: str = "") -> str:
    return prefix + template.format(premise=premise, hypothesis=hypothesis)


def label_token_ids(tokenizer, verbalizers: dict[str, str]) -> list[int]:
    """First token id of each label's verbalizer, in ``LABELS`` order; they must be distinct."""
    if set(verbalizers) != set(LABELS):
        raise UserError(
            f"{shown_path()}: prompt.verbalizers needs exactly the keys {list(LABELS)}; got {sorted(verbalizers)}"
        )
    ids = []
    for label in LABELS:
        toks = tokenizer.encode(verbalizers[label], add_special_tokens=False)
        if not toks:
            raise UserError(f"{shown_path()}: prompt.verbalizers.{label} = {verbalizers[label]!r} encodes to no tokens")
        ids.append(toks[0])
    if len(set(ids)) != len(ids):
        shown = {label: tokenizer.convert_ids_to_tokens(i) for label, i in zip(LABELS, ids)}
        raise UserError(
            f"{shown_path()}: prompt.verbalizers start with the same token for two labels "
            f"({shown}); choose words whose first tokens differ"
        )
    return ids


def few_shot_prefix(prompt: config.Prompt, pool: list[dict], k: int, seed: int) -> str:
    """k solved examples from ``pool`` (the train set), labels in turn, drawn with ``seed``."""
    if k <= 0:
        return ""
    rng = random.Random(seed)
    by_label = {i: [r for r in pool if r["label"] == i] for i in range(len(LABELS))}
    for i in by_label:
        rng.shuffle(by_label[i])
    shots = []
    for j in range(k):
        bucket = by_label[j % len(LABELS)]
        if not bucket:
            raise UserError(f"few-shot: the train set has too few '{LABELS[j % len(LABELS)]}' pairs for k={k}")
        shots.append(bucket.pop())
    rng.shuffle(shots)
    return "".join(
        format_prompt(prompt.template, r["premise"], r["hypothesis"])
        + getattr(prompt.verbalizers, LABELS[r["label"]])
        + "\n\n"
        for r in shots
    )
