"""Restricted label scoring: one forward pass per batch, logits only at the answer position.

Prompts are left-padded so the answer position is the last one in every row; ``logits_to_keep=1``
asks the model for that position's logits only (the lm_head never runs over the prompt), and
explicit position ids keep a padded row's result equal to the same row unpadded. Batches are
formed from length-sorted prompts so little compute goes to padding.

Under SDPA a left pad position would attend to nothing (every earlier key is padding too); such an
empty row of the attention mask gives NaN gradients in bf16 that poison the adapter. So the mask
handed to the model lets each pad position attend to itself, which changes nothing for the real
tokens (pad keys stay masked for them).

On a GPU batches are right-padded instead and the model gets no attention mask at all: under causal
attention a real token never sees the pads that follow it, positions count from 0 in every row as
they do for left-padded rows, and without a mask SDPA may take its flash kernel. The logits are read
at each row's last real token (``logits_to_keep`` with the few distinct last positions of the batch).
The CPU keeps left padding and its mask: its numbers stay those of the committed runs.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from nli.core import config
from nli.core.config import shown_path as config_path
from nli.core.errors import UserError
from nli.model import adapters, loading, prompts


def encode(tokenizer, prompts: list[str], max_length: int) -> list[list[int]]:
    """Token ids per prompt; over-long prompts lose tokens from the left (the question stays)."""
    tokenizer.truncation_side = "left"
    return tokenizer(prompts, add_special_tokens=False, truncation=True, max_length=max_length)["input_ids"]


def length_sorted_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (longest first: memory peaks show early)."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


RIGHT_PAD_ON_GPU = True  # bench/gpu_bench.py turns it off to time the left-padded path in the same process


def padding_side(device: str) -> str:
    """``right`` on a GPU (no attention mask: SDPA's flash kernel), ``left`` elsewhere (see the module doc)."""
    return "right" if device == "cuda" and RIGHT_PAD_ON_GPU else "left"


def collate(seqs: list[list[int]], pad_id: int, side: str = "left") -> dict[str, torch.Tensor]:
    """Left-pad to the longest sequence; position ids count real tokens only. ``side="right"``: see
    :func:`collate_right`."""
    if side == "right":
        return collate_right(seqs, pad_id)
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, s in enumerate(seqs):
        ids[row, width - len(s) :] = torch.tensor(s, dtype=torch.long)
        mask[row, width - len(s) :] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return {"input_ids": ids, "attention_mask": mask, "position_ids": positions}


def collate_right(seqs: list[list[int]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad to the longest sequence, for a model run with no attention mask (positions 0, 1, ... in every
    row). ``keep_positions``: the batch's distinct last-real-token positions, ``answer_pick``: each row's index
    into them; ``attention_mask`` only counts tokens, the model never gets it."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, s in enumerate(seqs):
        ids[row, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[row, : len(s)] = 1
    last = [len(s) - 1 for s in seqs]
    keep = sorted(set(last))
    where = {p: i for i, p in enumerate(keep)}
    return {
        "input_ids": ids,
        "attention_mask": mask,
        "keep_positions": torch.tensor(keep, dtype=torch.long),
        "answer_pick": torch.tensor([where[p] for p in last], dtype=torch.long),
    }


def _config(model):
    return getattr(model, "module", model).config  # DDP wraps the model under torchrun


def _no_empty_rows(mask: torch.Tensor) -> torch.Tensor:
    """(B, T) 0/1 padding mask -> (B, 1, T, T) boolean SDPA mask: causal over real keys, plus the diagonal."""
    width = mask.shape[-1]
    causal = torch.ones(width, width, dtype=torch.bool, device=mask.device).tril()
    full = causal[None] & mask.bool()[:, None, :]
    full |= torch.eye(width, dtype=torch.bool, device=mask.device)[None]
    return full[:, None]


def answer_logits(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Full-vocabulary logits at the answer position, shape (batch, vocab), float32."""
    batch = dict(batch)
    if "keep_positions" in batch:  # right-padded (collate_right): no mask, logits at each row's last real token
        keep, pick = batch.pop("keep_positions"), batch.pop("answer_pick")
        batch.pop("attention_mask", None)
        out = model(**batch, logits_to_keep=keep, use_cache=False)
        return out.logits[torch.arange(len(pick), device=pick.device), pick].float()
    mask = batch.get("attention_mask")
    # transformers has no public getter for the attention in use (docs/internals.md)
    if mask is not None and mask.dim() == 2 and getattr(_config(model), "_attn_implementation", None) == "sdpa":
        batch["attention_mask"] = _no_empty_rows(mask)
    out = model(**batch, logits_to_keep=1, use_cache=False)
    return out.logits[:, -1, :].float()


@contextmanager
def adapter_in_compute_dtype(model):
    """Inference with the LoRA weights in the base model's compute dtype, restored afterwards.

    PEFT keeps adapter weights in float32; without autocast each adapted layer would then cast its
    input to float32 and run the adapter in float32, about a quarter of a bf16 scoring pass."""
    if getattr(model, "_adapter_cast", False):  # nested (predict --stream): don't walk the parameters again
        yield model
        return
    base = getattr(getattr(model, "get_base_model", lambda: model)(), "dtype", torch.float32)
    saved = []
    if base in (torch.bfloat16, torch.float16):
        for name, p in model.named_parameters():
            if "lora_" in name and p.dtype != base:
                saved.append((p, p.data))
                p.data = p.data.to(base)
    model._adapter_cast = True
    try:
        yield model
    finally:
        model._adapter_cast = False
        for p, data in saved:
            p.data = data


@torch.inference_mode()
def score(
    model,
    tokenizer,
    encoded: list[list[int]],
    label_ids: list[int],
    batch_size: int,
    desc: str = "scoring",
    progress: bool = True,
) -> tuple[np.ndarray, dict]:
    """Log-probability of each label token for each prompt, shape (n, n_labels), in input order."""
    if model.training:  # eval() walks every module: too slow to repeat for one pair at a time
        model.eval()
    device = next(model.parameters()).device
    side = padding_side(device.type)
    scores = np.zeros((len(encoded), len(label_ids)), dtype=np.float32)
    batches = length_sorted_batches([len(s) for s in encoded], batch_size)
    label_index = torch.tensor(label_ids, device=device)
    start, tokens = time.perf_counter(), 0
    with adapter_in_compute_dtype(model), tqdm(total=len(encoded), desc=desc, unit="ex", disable=not progress) as bar:
        for idx in batches:
            seqs = [encoded[i] for i in idx]
            batch = {k: v.to(device) for k, v in collate(seqs, tokenizer.pad_token_id, side).items()}
            logprobs = torch.log_softmax(answer_logits(model, batch), dim=-1)
            scores[idx] = logprobs.index_select(-1, label_index).cpu().numpy()
            tokens += sum(len(s) for s in seqs)
            bar.update(len(idx))
    seconds = time.perf_counter() - start
    return scores, {
        "eval_seconds": round(seconds, 2),
        "examples_per_second": round(len(encoded) / seconds, 2),
        "tokens_per_second": round(tokens / seconds, 1),
    }


def probabilities(logprobs: np.ndarray) -> np.ndarray:
    """Distribution over the label tokens alone (softmax of their log-probabilities), per row."""
    from scipy.special import softmax

    return softmax(logprobs, axis=1)


@dataclass
class Classifier:
    """A loaded model (+ optional adapter) that labels premise/hypothesis pairs; used by evaluate and predict."""

    loaded: loading.Loaded
    model: torch.nn.Module
    label_ids: list[int]
    template: str
    max_length: int
    batch_size: int
    prefix: str = ""
    adapter: str | None = None

    def texts(self, pairs: list[dict]) -> list[str]:
        return [prompts.format_prompt(self.template, p["premise"], p["hypothesis"], self.prefix) for p in pairs]

    def encode(self, pairs: list[dict]) -> list[list[int]]:
        return encode(self.loaded.tokenizer, self.texts(pairs), self.max_length + self.prefix_tokens)

    def truncated(self, pairs: list[dict]) -> list[int]:
        """Indices of the pairs whose prompt is longer than ``prompt.max_length``: ``encode`` cuts their first
        tokens (the start of the premise), so they are scored on part of their text."""
        limit = self.max_length + self.prefix_tokens
        lengths = self.loaded.tokenizer(self.texts(pairs), add_special_tokens=False, return_length=True)["length"]
        return [i for i, n in enumerate(lengths) if n > limit]

    def warn_truncated(self, pairs: list[dict], what: str, numbers: list | None = None) -> int:
        """Count the pairs that ``encode`` cuts and say so on standard error (``numbers``: their line numbers)."""
        cut = self.truncated(pairs)
        if cut:
            shown = [numbers[i] if numbers else i + 1 for i in cut[:10]]
            more = ", ..." if len(cut) > 10 else ""
            print(
                f"warning: {what}: {len(cut)} of {len(pairs)} pairs truncated: longer than prompt.max_length = "
                f"{self.max_length} tokens, they lose their first tokens (pairs {', '.join(map(str, shown))}{more}); "
                f"raise prompt.max_length in {config_path()} to score them whole",
                file=sys.stderr,
                flush=True,
            )
        return len(cut)

    @property
    def prefix_tokens(self) -> int:
        return len(self.loaded.tokenizer.encode(self.prefix, add_special_tokens=False)) if self.prefix else 0

    def score(self, pairs: list[dict], desc: str = "scoring", progress: bool = True) -> tuple[np.ndarray, dict]:
        """Label log-probabilities (n, 3) in input order, and speed figures; non-finite scores are an error."""
        scores, speed = score(
            self.model,
            self.loaded.tokenizer,
            self.encode(pairs),
            self.label_ids,
            self.batch_size,
            desc=desc,
            progress=progress,
        )
        bad = int((~np.isfinite(scores)).any(axis=1).sum())
        if bad:  # NaN probabilities would still pick a label (argmax) and print as invalid JSON
            source = f"adapter {self.adapter}" if self.adapter else f"model {self.loaded.info.get('model')}"
            fix = (
                "retrain it (`dvc repro train`) or restore it (`dvc checkout models/adapter`)"
                if self.adapter
                else "check the model's weights (rebuild or re-download them)"
            )
            raise UserError(
                f"{source}: {bad} of {len(pairs)} pairs got non-finite label scores (NaN or inf), so its weights "
                f"are damaged or its training diverged; {fix}"
            )
        return scores, speed


def check_mergeable(run: loading.Runtime, params_path: str | os.PathLike) -> None:
    """``evaluate.merge_adapter`` needs dense base weights: merging into 4-bit layers would re-quantize each weight
    with the adapter's update in it, and score another model than the one trained."""
    if run.quantization is not None and not (run.materialize_on_gpu or run.dequantize_once):
        raise UserError(
            f"{params_path}: evaluate.merge_adapter = true, but model.quantization keeps 4-bit layers on the GPU "
            f"(merging would re-quantize the adapter's update into them); set model.quantization.materialize: true "
            f"to merge into the NF4-rounded weights, or evaluate.merge_adapter: false"
        )


def load_classifier(
    model: config.Model,
    prompt: config.Prompt,
    *,
    batch_size: int,
    adapter: str | None = None,
    prefix: str = "",
    params_path: str | os.PathLike = "params.yaml",
    merge: bool = False,
) -> Classifier:
    """Load ``model`` with ``prompt`` and, if given, a PEFT adapter (``merge``: merged into the base weights, which
    must be dense: see :func:`check_mergeable`)."""
    if adapter:
        adapters.check_adapter_folder(adapter)  # fail before the model loads
    if adapter and merge:
        check_mergeable(loading.runtime(model), params_path)
    loaded = loading.load(model)
    prompts.check_max_length(loaded.tokenizer, prompt.template, prompt.max_length, str(params_path))
    label_ids = prompts.label_token_ids(loaded.tokenizer, dataclasses.asdict(prompt.verbalizers))
    network = adapters.load_adapter(loaded.model, adapter) if adapter else loaded.model
    if adapter and merge:
        network = network.merge_and_unload()  # PEFT's public merge: W + scaling * B @ A, rounded once per weight
        loaded.info["adapter"] = "merged into the base weights (evaluate.merge_adapter)"
    return Classifier(
        loaded,
        network,
        label_ids,
        prompt.template,
        prompt.max_length,
        batch_size,
        prefix,
        str(adapter or "") or None,
    )
