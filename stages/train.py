"""Stage `train`: QLoRA on the train set, validation picks the adapter that is kept.

4-bit NF4 (+double quant) base, LoRA adapters from `params.yaml: lora`, loss on the label token
only. Checkpoints go to --checkpoints (outside DVC's outputs, keyed by params and data), so an
interrupted run resumes where it stopped on the next `dvc repro`. The kept adapter is saved in PEFT
format (safetensors + adapter_config.json); curves are logged with dvclive to --live-dir.
"""

import shutil
import sys
import time
from pathlib import Path

import _checkout  # noqa: F401  (first: this checkout's library, also in a queued experiment's copy)

from nli.core import config, files, records
from nli.core.errors import ArgumentParser, run_stage
from nli.model import loading, metrics, scoring
from nli.train import augment, launch, portable, training
from nli.train import callbacks as run_callbacks

SECTIONS = ["model", "prompt", "train", "lora"]


def main(argv=None, callbacks=()) -> None:
    ap = ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--train", default="data/split/train.jsonl")
    ap.add_argument("--val", default="data/split/val.jsonl")
    ap.add_argument("--adapter-dir", default="models/adapter")
    ap.add_argument("--metrics", default="metrics/train.json")
    ap.add_argument("--run-log", required=True, help="run info and cost (not a DVC metric)")
    ap.add_argument("--live-dir", default="plots/train", help="dvclive folder ('' to disable)")
    ap.add_argument("--checkpoints", default=".cache/checkpoints")
    args = ap.parse_args(argv)
    start = time.perf_counter()

    params = config.load(args.params, SECTIONS)
    p_train = params.train
    seed = p_train.seed  # training only: the split was drawn with the top-level seed
    device = loading.runtime(params.model).device
    code = launch.relaunch(p_train.gpus, device, __file__, sys.argv[1:] if argv is None else list(argv))
    if code is not None:  # train.gpus > 1: the processes torchrun started did the work
        if code:
            raise SystemExit(code)
        return
    train_set, val_set = records.read_split(args.train), records.read_split(args.val)
    if p_train.swap_contradictions:
        train_set = augment.swap_contradictions(train_set)

    metrics.reset_peak_memory()
    base = scoring.load_classifier(
        params.model, params.prompt, batch_size=p_train.batch_size * 2, params_path=args.params
    )
    loaded = base.loaded
    for name, rows in ((args.train, train_set), (args.val, val_set)):
        base.warn_truncated(rows, f"train {name}")
    train_ex, val_ex = (
        training.make_examples(base.encode(s), [r["label"] for r in s], base.label_ids) for s in (train_set, val_set)
    )
    model = training.add_lora(loaded.model, params.lora, seed=seed, model_name=params.model.name)
    counts = loading.parameter_counts(model)
    print(f"trainable {counts['trainable_params']:,} / total {counts['total_params']:,}")

    run_dir = Path(args.checkpoints) / f"train-{training.fingerprint(params, SECTIONS, [args.train, args.val])}"
    resume = training.last_checkpoint(run_dir)
    totals = run_callbacks.RunTotals()  # whole-run seconds and loss, also across a resume
    trainer = training.build_trainer(
        model,
        loaded.tokenizer,
        p_train=p_train,
        seed=seed,
        runtime=loaded.runtime,
        run_dir=run_dir,
        train_ex=train_ex,
        val_ex=val_ex,
        label_ids=base.label_ids,
        # heap trims keep a CPU run's RSS down; on a GPU they only cost time
        callbacks=[totals, *([run_callbacks.ReleaseFreedMemory()] if loaded.device == "cpu" else []), *callbacks],
    )
    if args.live_dir and trainer.is_world_process_zero():  # one logger, also under torchrun
        trainer.add_callback(run_callbacks.live_curves(args.live_dir))
    if resume:
        print(f"resuming from {resume}")
    trainer.train(resume_from_checkpoint=resume)
    if not trainer.is_world_process_zero():
        return

    with files.atomic_dir(args.adapter_dir) as tmp:  # written whole or not at all
        trainer.model.save_pretrained(tmp, safe_serialization=True)
        portable.canonicalize_adapter(tmp, params.model.name)
    best = training.best_eval(trainer)
    files.write_json(
        args.metrics,
        {
            "val_acc": round(best.get("eval_accuracy", float("nan")), 4),  # the best validation, kept adapter's
            "val_loss": round(best.get("eval_loss", float("nan")), 4),
        },
    )
    run = totals.summary(trainer.state, len(train_ex))  # the whole run, not just the part since a resume
    files.write_run_log(
        args.run_log,
        info={
            **loaded.info,
            "best_step": best.get("step"),
            **counts,
            "effective_batch_size": p_train.batch_size * p_train.grad_accum,  # shared among the processes
            "processes": trainer.args.world_size,
            "train_pairs": len(train_ex),  # swapped contradiction copies included
        },
        cost={**run, "stage_seconds": round(time.perf_counter() - start, 2), **metrics.peak_memory()},
    )
    shutil.rmtree(run_dir, ignore_errors=True)  # finished: nothing left to resume
    print(
        f"best val accuracy {best.get('eval_accuracy', float('nan')):.4f} at step {best.get('step')}; "
        f"{run['examples_per_second']:.1f} ex/s"
    )


if __name__ == "__main__":
    run_stage(main)
