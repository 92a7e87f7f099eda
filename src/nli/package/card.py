"""The model card (README.md) of the packaged adapter: base model, prompt, verbalizers, data, split sizes,
test metrics, and how to load it. The adapter files themselves were made portable by the train stage
(``nli.train.portable``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from nli.core.artifacts import base_model_id
from nli.core.labels import LABELS


def _split_size(value: Any) -> Any:
    return value.get("n") if isinstance(value, dict) else value


def _fmt(value: Any, pct: bool = False, signed: bool = False, decimals: int | None = None) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "n/a"
    if pct:
        return f"{100 * value:+.1f} pp" if signed else f"{100 * value:.1f}%"
    return f"{value:.{decimals}f}" if decimals is not None else f"{value:.3g}"


def render(params: dict, data: dict, finetuned: dict, compare: dict, *, merged: bool = False) -> str:
    """The model card (README.md) from params.yaml and the data, fine-tuned and compare metrics."""
    model, prompt, lora, train = params["model"], params["prompt"], params["lora"], params["train"]
    base = base_model_id(model["name"])
    quant = model.get("quantization") or {}
    on_hub = "/" in base and not base.startswith((".", "/"))
    sizes = {split: _split_size(data.get(split)) for split in ("train", "val", "test")}
    origin = (
        "train and validation pairs from SNLI's train and validation splits, test pairs from its test split"
        if (params.get("data") or {}).get("source") == "hub"
        else "train and validation pairs from SNLI's validation split, test pairs from its test split"
    )
    layers = f" in the top {lora['top_layers']} layers" if lora.get("top_layers") else ""
    what = "merged model (base + adapter folded in)" if merged else "LoRA adapter"
    front = {
        "base_model": base,
        "library_name": "transformers" if merged else "peft",
        "datasets": ["stanfordnlp/snli"],
        "tags": ["nli", "snli", "lora", "qlora"],
        "metrics": ["accuracy"],
    }
    lines = ["---", *(f"{k}: {json.dumps(v)}" for k, v in front.items()), "---", ""]
    lines += [
        f"# SNLI natural-language inference: {what} for `{base}`",
        "",
        "Labels a premise/hypothesis pair as entailment, neutral or contradiction. The model reads the prompt "
        "below and the label is the verbalizer whose first token gets the highest probability at the answer "
        "position (restricted label scoring); training used the same prompt, with cross-entropy on that token.",
        "",
        "## Base model",
        "",
        f"- `{model['name']}`" + (f" = `{base}` on the Hugging Face hub" if base != model["name"] else ""),
        f"- trained on the base quantized {quant.get('quant_type', 'nf4').upper()}"
        f"{' with double quantization' if quant.get('double_quant') else ''} (QLoRA)"
        if quant.get("load_in_4bit")
        else "- trained on the unquantized base (LoRA)",
        "",
        "## Prompt and verbalizers",
        "",
        "```text",
        prompt["template"].rstrip("\n"),
        "```",
        "",
        "| label | verbalizer |",
        "|---|---|",
        *(f"| {label} | `{json.dumps(prompt['verbalizers'][label])}` |" for label in LABELS),
        "",
        "## Data",
        "",
        f"SNLI (`stanfordnlp/snli`): {sizes['train']} training, {sizes['val']} validation (picks the kept "
        f"checkpoint) and {sizes['test']} test pairs, drawn with seed {params.get('seed')}; {origin}.",
        "",
        "## Training",
        "",
        f"LoRA r = {lora['r']}, alpha = {lora['alpha']}, dropout = {lora['dropout']}, target modules "
        f"`{lora['target_modules']}`{layers}; "
        f"learning rate {train['lr']} ({train['lr_scheduler']}, warmup {train['warmup_ratio']}), batch size "
        f"{train['batch_size']} x {train['grad_accum']}, "
        + (f"{train['max_steps']} steps." if train.get("max_steps", -1) > 0 else f"{train['epochs']} epoch(s)."),
        "",
        "## Test metrics",
        "",
        "| metric | value |",
        "|---|---|",
        f"| accuracy | {_fmt(finetuned.get('ft_acc'), pct=True)} |",
        f"| macro-F1 | {_fmt(finetuned.get('ft_f1'), decimals=3)} |",
        f"| accuracy change vs the zero-shot base | {_fmt(compare.get('delta'), pct=True, signed=True)} "
        f"(95% CI {_fmt(compare.get('delta_lo'), pct=True, signed=True)} to "
        f"{_fmt(compare.get('delta_hi'), pct=True, signed=True)}; McNemar p = {_fmt(compare.get('mcnemar_p'))}) |",
        *(
            f"| {name} (zero-shot → fine-tuned) | {_fmt(compare.get(f'{key}_base'), decimals=3)} → "
            f"{_fmt(compare.get(f'{key}_ft'), decimals=3)} |"
            for key, name in (("ece", "ECE"), ("brier", "Brier score"), ("nll", "NLL of the gold label"))
        ),
        "",
        "## How to load it",
        "",
    ]
    if merged:
        lines += [
            "```python",
            "from transformers import AutoModelForCausalLM, AutoTokenizer",
            'model = AutoModelForCausalLM.from_pretrained("path/to/this/folder")',
            'tokenizer = AutoTokenizer.from_pretrained("path/to/this/folder")',
            "```",
        ]
    elif on_hub:
        lines += [
            "```python",
            "from peft import PeftModel",
            "from transformers import AutoModelForCausalLM, AutoTokenizer",
            f'base = AutoModelForCausalLM.from_pretrained("{base}")',
            f'tokenizer = AutoTokenizer.from_pretrained("{base}")',
            'model = PeftModel.from_pretrained(base, "path/to/this/folder")',
            "```",
        ]
    else:
        lines += [
            f"`{base}` is this project's name for its base model, so load it through the project's library:",
            "",
            "```python",
            "from peft import PeftModel",
            "from nli import config, modeling",
            'loaded = modeling.load(config.load("params.yaml", ["model"])["model"])',
            'model = PeftModel.from_pretrained(loaded.model, "path/to/this/folder")',
            "```",
        ]
    lines += [
        "",
        "Scoring new pairs exactly as the evaluation does: "
        "`python scripts/predict.py --adapter path/to/this/folder --input pairs.jsonl`.",
    ]
    return "\n".join(lines) + "\n"


def write(
    out_dir: str | os.PathLike,
    params: dict,
    *,
    data: str | os.PathLike = "metrics/data.json",
    finetuned: str | os.PathLike = "metrics/finetuned.json",
    compare: str | os.PathLike = "metrics/compare.json",
    merged: bool = False,
) -> None:
    """Write README.md into ``out_dir`` from params and the three metrics files (the pipeline's by default)."""

    def read(path: str | os.PathLike) -> dict:  # a missing file (no run yet) shows as n/a
        return json.loads(Path(path).read_text()) if Path(path).is_file() else {}

    text = render(params, read(data), read(finetuned), read(compare), merged=merged)
    (Path(out_dir) / "README.md").write_text(text, encoding="utf-8")
