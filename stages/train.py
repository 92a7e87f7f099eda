"""Stage `train`: QLoRA on the train set, validation picks the adapter that is kept.

4-bit NF4 (+double quant) base, LoRA adapters from `params.yaml: lora`, loss on the label token
only. Checkpoints go to --checkpoints (outside DVC's outputs, keyed by params and data), so an
interrupted run resumes where it stopped on the next `dvc repro`. The kept adapter is saved in PEFT
format (safetensors + adapter_config.json); curves are logged with dvclive to --live-dir.
"""

import argparse
import hashlib
import json
import shutil
import time
from pathlib import Path

import numpy as np

from nli import callbacks as run_callbacks
from nli import config, data, io, metrics, modeling, prompts, scoring, training
from nli.errors import UserError, run_stage

SECTIONS = ["model", "prompt", "train", "lora"]


def fingerprint(params: dict, paths: list[str]) -> str:
    """Identify a training run by everything that shapes it, so a resume never mixes two runs."""
    h = hashlib.sha256(json.dumps([params[s] for s in SECTIONS] + [params["seed"]], sort_keys=True).encode())
    for p in paths:
        h.update(Path(p).read_bytes())
    return h.hexdigest()[:16]


def main(argv=None, callbacks=()) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--train", default="data/split/train.jsonl")
    ap.add_argument("--val", default="data/split/val.jsonl")
    ap.add_argument("--adapter-dir", default="models/adapter")
    ap.add_argument("--metrics", default="metrics/train.json")
    ap.add_argument("--live-dir", default="plots/train", help="dvclive folder ('' to disable)")
    ap.add_argument("--checkpoints", default=".cache/checkpoints")
    args = ap.parse_args(argv)
    stage_start = time.perf_counter()

    params = config.load(args.params, SECTIONS)
    p_train, p_prompt, seed = params["train"], params["prompt"], params["seed"]
    template = prompts.check_template(p_prompt["template"])
    train_set, val_set = data.read_split(args.train), data.read_split(args.val)
    batch = p_train["batch_size"] * p_train["grad_accum"]
    total_steps = (
        p_train["max_steps"] if p_train["max_steps"] > 0 else int(np.ceil(len(train_set) / batch) * p_train["epochs"])
    )

    metrics.reset_peak_memory()
    loaded = modeling.load(params["model"])
    tok, device = loaded.tokenizer, loaded.info["device"]
    label_ids = prompts.label_token_ids(tok, p_prompt["verbalizers"])
    prompts.check_max_length(tok, template, p_prompt["max_length"], args.params)

    def examples(records):
        encoded = scoring.encode(
            tok,
            [prompts.format_prompt(template, r["premise"], r["hypothesis"]) for r in records],
            p_prompt["max_length"],
        )
        return training.make_examples(encoded, [r["label"] for r in records], label_ids)

    train_ex, val_ex = examples(train_set), examples(val_set)

    from peft import get_peft_model
    from transformers import set_seed

    set_seed(seed)  # LoRA's initial weights come from the global RNG
    try:
        model = get_peft_model(loaded.model, training.lora_config(params["lora"], loaded.model))
    except ValueError as exc:
        raise UserError(
            f"params.yaml: the lora section does not fit {params['model']['name']} ({exc}); check "
            f"lora.target_modules and lora.top_layers against the model's modules"
        ) from None
    counts = modeling.parameter_counts(model)
    print(
        f"trainable {counts['trainable_params']:,} / total {counts['total_params']:,} "
        f"(raw numel {counts['total_params_raw_numel']:,})"
    )

    run_dir = Path(args.checkpoints) / f"train-{fingerprint(params, [args.train, args.val])}"
    totals = run_callbacks.RunTotals()  # whole-run seconds and loss, also across a resume
    trainer = training.LabelTokenTrainer(
        model=model,
        args=training.training_arguments(
            p_train,
            str(run_dir),
            seed,
            device,
            modeling.pick_dtype(params["model"]["compute_dtype"], device),
            total_steps,
        ),
        train_dataset=train_ex,
        eval_dataset=val_ex,
        data_collator=training.make_collator(tok.pad_token_id),
        processing_class=tok,
        compute_metrics=training.make_accuracy(label_ids),
        label_token_ids=label_ids,
        callbacks=[totals, *callbacks],
    )
    if args.live_dir and trainer.is_world_process_zero():  # one logger, also under torchrun
        trainer.add_callback(run_callbacks.live_curves(args.live_dir))

    resume = _last_checkpoint(run_dir)
    if resume:
        print(f"resuming from {resume}")
    trainer.train(resume_from_checkpoint=resume)
    if not trainer.is_world_process_zero():
        return

    state = trainer.state
    with io.atomic_dir(args.adapter_dir) as tmp:  # written whole or not at all
        trainer.model.save_pretrained(tmp, safe_serialization=True)
        training.canonicalize_adapter_config(tmp / "adapter_config.json")
    run = totals.summary(state, len(train_ex))  # the whole run, not just the part since a resume
    seen, train_seconds = run["examples_seen"], run["train_seconds"]
    mean_tokens = float(np.mean([len(e["input_ids"]) for e in train_ex]))
    best = max((h for h in state.log_history if "eval_accuracy" in h), key=lambda h: h["eval_accuracy"], default={})
    io.write_json(
        args.metrics,
        {
            **run,
            "stage_seconds": round(time.perf_counter() - stage_start, 2),
            "train_minutes": round(train_seconds / 60, 2),
            "tokens_per_second": round(seen * mean_tokens / train_seconds, 1),
            "best_step": best.get("step"),
            "best_val_accuracy": round(best.get("eval_accuracy", float("nan")), 4),
            "best_val_loss": round(best.get("eval_loss", float("nan")), 4),
            **counts,
            **metrics.peak_memory(),
            **loaded.info,
            "effective_batch_size": batch * max(1, trainer.args.world_size),
            "gradient_checkpointing": p_train["gradient_checkpointing"],
        },
    )
    shutil.rmtree(run_dir, ignore_errors=True)  # finished: nothing left to resume
    print(
        f"best val accuracy {best.get('eval_accuracy', float('nan')):.4f} at step {best.get('step')}; "
        f"{run['examples_per_second']:.1f} ex/s"
    )


def _last_checkpoint(run_dir: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(run_dir)) if run_dir.is_dir() else None


if __name__ == "__main__":
    run_stage(main)
