"""Stage `package`: the trained adapter as a documented, portable model artifact.

Copies the adapter files from --adapter (train made them portable: nli.train.portable) and the temperature fitted by
evaluate_finetuned (--temperature, as temperature.json, which predict applies), and writes into --out README.md, the
model card (base model, prompt, verbalizers, data and split sizes, the fine-tuned model's test results, licences, how
to load it), and the scoring recipe that `nli.serving.packaged.load` reads. dvc.yaml declares --out under
`artifacts:` (type model). It reads the fine-tuned model's metrics, never compare's: the artifact's bytes change only
when the model does.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import _checkout  # noqa: F401  (first: this checkout's library, also in a queued experiment's copy)

from nli.core import config, files
from nli.core.artifacts import ADAPTER_FILES
from nli.core.errors import ArgumentParser, UserError, run_stage
from nli.package import card


def main() -> None:
    ap = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--adapter", type=Path, default=Path("models/adapter"))
    ap.add_argument("--temperature", type=Path, default=Path("models/temperature.json"))
    ap.add_argument("--data-metrics", default="metrics/data.json")
    ap.add_argument("--finetuned-metrics", default="metrics/finetuned.json")
    ap.add_argument("--out", type=Path, default=Path("models/snli-nli-adapter"))
    args = ap.parse_args()

    params = config.load(args.params, ["data", "model", "prompt", "evaluate", "train", "lora"])
    missing = [name for name in ADAPTER_FILES if not (args.adapter / name).is_file()]
    if missing:
        raise UserError(f"{args.adapter}: missing {', '.join(missing)}; run the train stage (dvc repro train)")
    for path, stage in (
        (args.data_metrics, "split"),
        (args.finetuned_metrics, "evaluate_finetuned"),
    ):
        if not Path(path).is_file():  # the card would say "n/a" for every number it holds
            raise UserError(f"{path} not found; the model card reads it: run `dvc repro {stage}` first")
    if not args.temperature.is_file():
        raise UserError(
            f"{args.temperature} not found; run the evaluate_finetuned stage (dvc repro evaluate_finetuned)"
        )
    with files.atomic_dir(args.out) as tmp:
        for name in ADAPTER_FILES:
            shutil.copyfile(args.adapter / name, tmp / name)
        shutil.copyfile(args.temperature, tmp / "temperature.json")
        card.write(tmp, params, data=args.data_metrics, finetuned=args.finetuned_metrics)
    print(f"package: {args.out} ({', '.join(sorted(p.name for p in args.out.iterdir()))})")


if __name__ == "__main__":
    run_stage(main)
