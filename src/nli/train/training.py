"""QLoRA training with the Hugging Face Trainer: the loss is cross-entropy on the label token only.

The training example is exactly the evaluation prompt; its target is the first token of the gold
label's verbalizer at the answer position, so the loss needs the logits of one position per row
(``logits_to_keep=1``). Trainer supplies the rest: warmup + schedule, accumulation, mixed precision,
gradient checkpointing, length-grouped batches, checkpoints that resume bit-for-bit (RNG and sampler
state included), best-checkpoint selection on validation accuracy, and data-parallel runs under
``torchrun`` / ``accelerate launch``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
from transformers import Trainer, TrainerCallback, TrainingArguments

from nli.core import config
from nli.core.config import shown_path
from nli.core.errors import UserError
from nli.model import scoring
from nli.model.loading import Runtime


def length_grouped_indices(lengths: list[int], batch_size: int, generator: torch.Generator) -> list[int]:
    """A random order in which each run of ``batch_size`` indices has similar lengths, the longest batch first.

    Shuffled, cut into mega-batches of up to 50 batches (fewer, so there are at least 4, for small data), each
    sorted by length, longest first. Transformers' ``get_length_grouped_indices`` does the same; this copy keeps
    the training order, and with it the adapter's bytes, out of a dependency's private module."""
    mega = max(min(len(lengths) // (batch_size * 4), 50), 1) * batch_size
    indices = torch.randperm(len(lengths), generator=generator)
    megabatches = [indices[i : i + mega].tolist() for i in range(0, len(lengths), mega)]
    megabatches = [sorted(m, key=lambda i: lengths[i], reverse=True) for m in megabatches]
    longest = int(torch.argmax(torch.tensor([lengths[m[0]] for m in megabatches])))
    megabatches[0][0], megabatches[longest][0] = megabatches[longest][0], megabatches[0][0]
    return [i for m in megabatches for i in m]


class EpochSeededLengthSampler(torch.utils.data.Sampler):
    """Length-grouped order drawn from ``seed + epoch``, not the global RNG.

    The stock sampler draws from the global RNG when iteration starts; after a resume that RNG holds
    the checkpoint's state, so the epoch's order would differ from the uninterrupted run's. Trainer calls
    ``set_epoch`` on its sampler at every epoch (documented for ``train_dataset``).
    """

    def __init__(self, batch_size: int, lengths: list[int], seed: int):
        self.batch_size, self.lengths = batch_size, lengths
        self.seed, self.epoch = seed, 0

    def __len__(self) -> int:
        return len(self.lengths)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(length_grouped_indices(self.lengths, self.batch_size, generator))


CAST_NORM_OUTPUTS = True  # bench/gpu_bench.py turns it off in one row to time the casts it saves


@contextlib.contextmanager
def norm_outputs_in_autocast_dtype(model, active: bool = True):
    """Every ``nn.LayerNorm`` in ``model`` hands its consumers its output in the autocast dtype, cast once.

    CUDA autocast runs layer_norm in float32 and returns float32. In Phi-2 four projections and their four adapters
    read each layer's norm output, and each casts it to the compute dtype on its own: eight copies of a whole
    activation in every forward pass (recomputed under gradient checkpointing), eight float32 gradients summed in the
    backward, and one bf16 copy saved per adapter. Cast once, the forward numbers are the same (every consumer rounded
    the same float32 values to the same dtype); the backward sums the consumers' gradients in the compute dtype, as it
    does for every other activation. Models whose norms already return the compute dtype (Llama's RMSNorm) are
    untouched. A no-op outside autocast, so scoring is unchanged."""
    if not active:
        yield
        return

    def cast(module, args, output):
        device = output.device.type
        if torch.is_autocast_enabled(device) and output.dtype == torch.float32:
            return output.to(torch.get_autocast_dtype(device))
        return None

    handles = [m.register_forward_hook(cast) for m in model.modules() if isinstance(m, torch.nn.LayerNorm)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


class LabelTokenTrainer(Trainer):
    """A Trainer whose loss is cross-entropy at the answer position; eval returns label-token logits."""

    # Our loss is a per-micro-batch mean, not normalized by num_items_in_batch: Trainer divides it by the
    # accumulation steps (its documented switch for subclasses that compute their own loss)
    loss_is_scaled_for_ga = False

    def __init__(self, *args, label_token_ids: list[int], label_smoothing: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.label_token_ids = label_token_ids
        self.label_smoothing = label_smoothing
        self._bad_loss = None  # on the device: set when a micro-batch's loss is not finite (no sync per batch)
        self._bad_steps = None  # on the device: set when a step's loss or gradient norm was not finite
        self.check_every = check_interval(self.args)
        self.add_callback(_CheckFinite(self))

    def train(self, *args, **kwargs):
        from peft.helpers import disable_input_dtype_casting

        # Under autocast each adapter's fp32 weight is cast to the compute dtype anyway, and so is its input,
        # straight back from the fp32 copy PEFT made of it: that copy only kept one more saved input per adapted
        # layer, which raised a CPU step's peak memory (docs/performance.md). Same numbers without it, unless LoRA
        # dropout would then scale the input in the compute dtype.
        autocast = self.args.bf16 or self.args.fp16
        dropout = any(isinstance(m, torch.nn.Dropout) for n, m in self.model.named_modules() if "lora_dropout" in n)
        with (
            disable_input_dtype_casting(self.model, active=autocast and not dropout),
            norm_outputs_in_autocast_dtype(self.model, active=autocast and CAST_NORM_OUTPUTS),
        ):
            return super().train(*args, **kwargs)

    def training_step(self, model, inputs, num_items_in_batch=None):
        loss = super().training_step(model, inputs, num_items_in_batch)
        bad = ~torch.isfinite(loss.detach())  # Trainer leaves non-finite losses out of its logged mean
        self._bad_loss = bad if self._bad_loss is None else self._bad_loss | bad
        return loss

    def check_finite(self, model) -> None:
        """Before each optimizer step: stop if a micro-batch's loss or the (clipped) gradients are not finite.

        Clipping keeps a non-finite norm non-finite (the gradients become NaN), so checking after it sees what
        Trainer saw. Checked at every step (``check_every`` 1, the CPU), nothing has been applied yet: the run
        stops before the diverged update. On a GPU reading the flags is a host sync that stops the host from
        queueing the next step while the GPU works, so they are gathered on the device and read every
        ``check_every`` steps and before every step that logs, validates or saves: a diverged update may then
        reach the weights in memory, but never a checkpoint, a log or the adapter."""
        step = self.state.global_step + 1
        if self.check_every > 1:
            self._check_deferred(model, step)
            return
        loss_bad = self._bad_loss is not None and bool(self._bad_loss)
        self._bad_loss = None
        norm = None
        # fp16 uses a loss scaler, which expects inf gradients now and then and skips those steps itself
        if not self.args.fp16:
            grads = [p.grad for p in model.parameters() if p.grad is not None]
            norm = float(torch.nn.utils.get_total_norm(grads)) if grads else None
        norm_bad = norm is not None and not math.isfinite(norm)
        if loss_bad or norm_bad:
            raise non_finite_error(step, loss_bad, norm, self.args)

    def _check_deferred(self, model, step: int) -> None:
        bad = self._bad_loss
        self._bad_loss = None
        if not self.args.fp16:
            grads = [p.grad for p in model.parameters() if p.grad is not None]
            if grads:
                norm_bad = ~torch.isfinite(torch.nn.utils.get_total_norm(grads))
                bad = norm_bad if bad is None else bad | norm_bad
        if bad is not None:
            self._bad_steps = bad if self._bad_steps is None else self._bad_steps | bad
        args = self.args
        boundary = (
            step % self.check_every == 0
            or step % args.logging_steps == 0
            or (args.eval_strategy != "no" and step % args.eval_steps == 0)
            or (args.save_strategy != "no" and step % args.save_steps == 0)
            or step >= self.state.max_steps
        )
        if boundary and self._bad_steps is not None:
            diverged, self._bad_steps = bool(self._bad_steps), None
            if diverged:
                raise non_finite_error(step, None, None, self.args)

    def _get_train_sampler(self, train_dataset=None):
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        return EpochSeededLengthSampler(
            self.args.train_batch_size * self.args.gradient_accumulation_steps,
            lengths=[len(row["input_ids"]) for row in dataset],
            seed=self.args.seed,
        )

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        logits = scoring.answer_logits(model, {k: v for k, v in inputs.items() if k != "labels"})
        loss = F.cross_entropy(logits, inputs["labels"])
        if self.label_smoothing:  # (1 - e) x cross-entropy + e x the mean over the label tokens' -log p
            spread = -torch.log_softmax(logits, dim=-1)[:, self.label_token_ids].mean(-1).mean()
            loss = (1 - self.label_smoothing) * loss + self.label_smoothing * spread
        if return_outputs:
            return loss, {"label_logits": logits[:, self.label_token_ids]}
        return loss


class _CheckFinite(TrainerCallback):
    """Runs ``LabelTokenTrainer.check_finite`` at Trainer's public hook before each optimizer step."""

    def __init__(self, trainer: LabelTokenTrainer):
        self.trainer = trainer

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        self.trainer.check_finite(model)


class NonFiniteTraining(UserError):
    """The loss or the gradient norm stopped being a finite number: the run has diverged."""


def check_interval(args) -> int:
    """How often (in optimizer steps) the finite-loss check reads its flags: every step on CPU, where a read costs
    nothing; on a GPU at most every 10 steps and at each log, validation and save (``check_finite``)."""
    return 1 if args.device.type == "cpu" else 10


def non_finite_error(step: int, loss_bad: bool | None, norm, args) -> NonFiniteTraining:
    """``loss_bad`` None: a deferred check (``check_every`` > 1) found a bad step at or before ``step``."""
    dtype = "fp16" if args.fp16 else "bf16" if args.bf16 else "fp32"
    other = {"fp16": "set model.compute_dtype: bf16 or fp32", "bf16": "set model.compute_dtype: fp32"}
    what = (
        f"at step {step}: loss {'not finite' if loss_bad else 'finite'}, gradient norm "
        f"{float(norm) if norm is not None else '?'}"
        if loss_bad is not None
        else f"at or before step {step}: a loss or gradient norm not finite"
    )
    return NonFiniteTraining(
        f"training diverged {what} (train.lr {args.learning_rate:g}, {dtype}); no adapter was "
        f"written. Lower train.lr (e.g. to {args.learning_rate / 10:g})"
        + (f" or {other[dtype]}" if dtype in other else "")
    )


def make_examples(encoded: list[list[int]], labels: list[int], label_token_ids: list[int]) -> list[dict]:
    return [{"input_ids": ids, "labels": label_token_ids[y]} for ids, y in zip(encoded, labels)]


def make_collator(pad_id: int, side: str = "left"):
    """Padded batches (``scoring.collate``: left, or right on a GPU) with each row's label token."""

    def collate(rows: list[dict]) -> dict[str, torch.Tensor]:
        batch = scoring.collate([r["input_ids"] for r in rows], pad_id, side)
        batch["labels"] = torch.tensor([r["labels"] for r in rows], dtype=torch.long)
        return batch

    return collate


def make_accuracy(label_token_ids: list[int]):
    """compute_metrics for Trainer: validation accuracy from the label-token logits."""
    index = {tok: i for i, tok in enumerate(label_token_ids)}

    def accuracy(eval_pred) -> dict:
        logits, label_tokens = eval_pred.predictions, eval_pred.label_ids
        gold = torch.tensor([index[int(t)] for t in label_tokens])
        return {"accuracy": float((torch.as_tensor(logits).argmax(-1) == gold).float().mean())}

    return accuracy


def linear_module_names(model) -> list[str]:
    """Names of the linear layers PEFT's ``all-linear`` would adapt (every Linear but the output head)."""
    import bitsandbytes as bnb

    kinds = (torch.nn.Linear, bnb.nn.Linear4bit)
    head = model.get_output_embeddings()
    return sorted(
        {name.rsplit(".", 1)[-1] for name, m in model.named_modules() if isinstance(m, kinds) and m is not head}
    )


def lora_config(p: config.Lora | Mapping, model=None):
    """LoRA from ``params.yaml: lora``; ``top_layers: N`` adapts only the last N transformer layers.

    Gradients then stop at the lowest adapted layer, so the backward pass skips the layers below
    it: a cheaper step where compute is scarce (CPU).
    """
    from peft import LoraConfig

    p = config.section("lora", dict(p)) if isinstance(p, Mapping) else p
    top, targets, layers = p.top_layers, p.target_modules, None
    if top:
        n = model.config.num_hidden_layers
        if top > n:
            raise ValueError(f"lora.top_layers = {top} but the model has {n} layers")
        layers = list(range(n - top, n))
        if targets == "all-linear":  # PEFT takes a layer subset only with explicit module names
            targets = linear_module_names(model)
    return LoraConfig(
        r=p.r,
        lora_alpha=p.alpha,
        lora_dropout=p.dropout,
        bias="none",
        target_modules=targets,
        layers_to_transform=layers,
        use_dora=p.use_dora,
        task_type="CAUSAL_LM",
    )


def training_arguments(
    p: config.Train | Mapping, *, output_dir: str, seed: int, runtime: Runtime, total_steps: int, validate: bool = True
) -> TrainingArguments:
    """Map ``params.yaml: train`` onto TrainingArguments (evaluate and checkpoint every eval_steps).

    ``validate=False`` (benchmarks) trains without evaluation or checkpoints.
    """
    p = config.section("train", dict(p)) if isinstance(p, Mapping) else p
    every = min(p.eval_steps, max(total_steps, 1))
    device, dtype = runtime.device, runtime.dtype
    per = "steps" if validate else "no"
    # train.batch_size is one optimizer step's batch (before accumulation), shared among the processes of a
    # data-parallel run, so the recipe (batch, lr, steps) is the same on any number of GPUs
    world = int(os.environ.get("WORLD_SIZE", 1))
    if p.batch_size % world:
        raise UserError(f"params.yaml: train.batch_size = {p.batch_size} does not split over {world} processes")
    return TrainingArguments(
        output_dir=output_dir,
        seed=seed,
        data_seed=seed,
        learning_rate=p.lr,
        num_train_epochs=p.epochs,
        max_steps=p.max_steps,
        per_device_train_batch_size=p.batch_size // world,
        per_device_eval_batch_size=p.batch_size * 2 // world,
        gradient_accumulation_steps=p.grad_accum,
        warmup_steps=p.warmup_ratio,
        lr_scheduler_type=p.lr_scheduler,
        weight_decay=p.weight_decay,
        optim=p.optim,
        activation_checkpointing=p.gradient_checkpointing,
        activation_checkpointing_kwargs={"use_reentrant": False} if p.gradient_checkpointing else None,
        bf16=dtype == torch.bfloat16,  # autocast; on CPU too where it has bf16 units (loading.pick_dtype)
        fp16=device == "cuda" and dtype == torch.float16,
        use_cpu=device == "cpu",
        eval_strategy=per,
        eval_steps=every,
        save_strategy=per,
        save_steps=every,
        save_total_limit=2,
        load_best_model_at_end=validate,
        neftune_noise_alpha=p.neftune_alpha or None,
        metric_for_best_model="accuracy",
        greater_is_better=True,
        logging_steps=max(1, min(10, every)),
        logging_first_step=True,
        # a non-finite loss stops the run (LabelTokenTrainer.check_finite), so Trainer's own filter for one only
        # costs a host sync per micro-batch
        logging_nan_inf_filter=False,
        train_sampling_strategy="group_by_length",
        remove_unused_columns=False,
        label_names=["labels"],
        report_to="none",
        dataloader_num_workers=0,
        # every LoRA weight gets a gradient at every step: skip DDP's search of the graph for unused ones
        ddp_find_unused_parameters=False,
        save_only_model=False,
    )


def fingerprint(params: config.Params, sections: list[str], paths: list[str]) -> str:
    """Identify a training run by everything that shapes it, so a resume never mixes two runs."""
    # train.seed is in the train section; the split's seed reaches the run through the split files' bytes
    h = hashlib.sha256(json.dumps(list(params.sections(sections).values()), sort_keys=True).encode())
    for p in paths:
        h.update(Path(p).read_bytes())
    return h.hexdigest()[:16]


def last_checkpoint(run_dir: Path) -> str | None:
    """The newest complete checkpoint of ``run_dir``, or None. A checkpoint the Trainer was still writing when the
    run was killed (it writes ``trainer_state.json`` last) is removed with a warning, and the one before it used."""
    import re
    import shutil
    import sys

    from nli.core.integrity import checkpoint_problem

    if not run_dir.is_dir():
        return None
    found = [(int(m.group(1)), p) for p in run_dir.iterdir() if (m := re.fullmatch(r"checkpoint-(\d+)", p.name))]
    for _, folder in sorted(found, reverse=True):
        why = checkpoint_problem(folder, required=("trainer_state.json",))
        if why is None:
            return str(folder)
        print(f"warning: {folder} is incomplete ({why}; a run stopped while writing it): removed", file=sys.stderr)
        shutil.rmtree(folder, ignore_errors=True)
    return None


def add_lora(model, p_lora: config.Lora, *, seed: int, model_name: str):
    """Wrap the frozen base with fresh LoRA adapters, initialised from ``seed``."""
    from peft import get_peft_model
    from transformers import set_seed

    set_seed(seed)  # LoRA's initial weights come from the global RNG
    try:
        return get_peft_model(model, lora_config(p_lora, model))
    except ValueError as exc:
        raise UserError(
            f"{shown_path()}: the lora section does not fit {model_name} ({exc}); check "
            f"lora.target_modules and lora.top_layers against the model's modules"
        ) from None


def build_trainer(
    model,
    tokenizer,
    *,
    p_train: config.Train,
    seed: int,
    runtime: Runtime,
    run_dir: Path,
    train_ex: list[dict],
    val_ex: list[dict],
    label_ids: list[int],
    callbacks=(),
) -> LabelTokenTrainer:
    batch = p_train.batch_size * p_train.grad_accum
    steps = p_train.max_steps if p_train.max_steps > 0 else math.ceil(len(train_ex) / batch) * p_train.epochs
    return LabelTokenTrainer(
        model=model,
        args=training_arguments(p_train, output_dir=str(run_dir), seed=seed, runtime=runtime, total_steps=int(steps)),
        train_dataset=train_ex,
        eval_dataset=val_ex,
        data_collator=make_collator(tokenizer.pad_token_id, scoring.padding_side(runtime.device)),
        processing_class=tokenizer,
        compute_metrics=make_accuracy(label_ids),
        label_token_ids=label_ids,
        label_smoothing=p_train.label_smoothing,
        callbacks=list(callbacks),
    )


def best_eval(trainer) -> dict:
    """The validation entry of the kept (best-accuracy) checkpoint: step, eval_accuracy, eval_loss."""
    evals = [h for h in trainer.state.log_history if "eval_accuracy" in h]
    return max(evals, key=lambda h: h["eval_accuracy"], default={})
