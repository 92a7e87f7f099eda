"""Model loading: device and dtype, NF4 quantization, and on CPU the NF4-rounded weights cached once.

Every model (``sources.resolve``) goes through one ``from_pretrained`` call. Never
``trust_remote_code``; safetensors only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

from nli.core import config, files, integrity
from nli.core.config import shown_path
from nli.core.errors import UserError
from nli.model import adapters, cpu, sources

NF4_LAYERS = "nf4_layers.json"  # in an nf4_rounded cache: the layers that were 4-bit
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


def pick_device(requested: str = "auto") -> str:
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise UserError(f"{shown_path()}: model.device = cuda but no CUDA device is visible; use auto or cpu")
    return requested


def pick_dtype(requested: str, device: str) -> torch.dtype:
    """``auto``: bf16 where the hardware has it (GPU: fp16 overflows in Phi-2's attention; CPU: AMX or
    AVX512-BF16), else fp16 on a GPU and fp32 on a CPU."""
    if requested == "auto":
        if device == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16 if cpu.has_bf16() else torch.float32
    if requested == "fp16" and device == "cpu":
        raise UserError(f"{shown_path()}: model.compute_dtype = fp16 needs a GPU; use fp32 or bf16 on CPU")
    return DTYPES[requested]


@dataclass(frozen=True)
class Runtime:
    """Where and how a model computes, resolved once from ``params.yaml: model`` and passed on from there."""

    device: str  # cpu | cuda
    dtype: torch.dtype  # the compute dtype
    quantization: config.Quantization | None  # None: the base loads unquantized

    @property
    def dequantize_once(self) -> bool:
        """On CPU the 4-bit weights are materialised once as their NF4-rounded values (see :func:`load`)."""
        return self.quantization is not None and self.device == "cpu"

    @property
    def materialize_on_gpu(self) -> bool:
        """On a GPU only when asked (``quantization.materialize``): the 4-bit layers are what keep Phi-2's
        low-memory configuration small."""
        return self.quantization is not None and self.device == "cuda" and self.quantization.materialize


def runtime(model: config.Model) -> Runtime:
    device = pick_device(model.device)
    quantization = model.quantization if model.quantization.load_in_4bit else None
    return Runtime(device=device, dtype=pick_dtype(model.compute_dtype, device), quantization=quantization)


@dataclass
class Loaded:
    model: torch.nn.Module
    tokenizer: object
    runtime: Runtime
    info: dict  # strings for the run log: model, source, device, compute_dtype, quantization

    @property
    def device(self) -> str:
        return self.runtime.device

    @property
    def dtype(self) -> torch.dtype:
        return self.runtime.dtype


def quantization_config(quant: config.Quantization | None, dtype: torch.dtype):
    if quant is None or not quant.load_in_4bit:
        return None
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type=quant.quant_type,
        bnb_4bit_use_double_quant=quant.double_quant,
        bnb_4bit_compute_dtype=dtype,
    )


FUSED_GELU = True  # bench/gpu_bench.py turns it off to time the report's configuration with Phi-2's stock activation


def model_config(source: str | Path):
    """``source``'s config, with the tanh-approximated GELU (``gelu_new``: Phi-2, GPT-2) as PyTorch's one fused kernel
    (``gelu_pytorch_tanh``): the same formula, computed in float32 inside one kernel and rounded once, where
    ``gelu_new`` runs eight elementwise ops over the MLP's widest activation, each rounded to the compute dtype, and
    keeps their inputs for the backward pass. transformers documents the two as equivalent."""
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(source, trust_remote_code=False)
    if FUSED_GELU and getattr(cfg, "hidden_act", None) == "gelu_new":
        cfg.hidden_act = "gelu_pytorch_tanh"
    return cfg


def _from_pretrained(source: str | Path, dtype: torch.dtype, quantization, device: str) -> torch.nn.Module:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(
        source,
        config=model_config(source),
        dtype=dtype,
        quantization_config=quantization,
        # under torchrun each process takes its own GPU (LOCAL_RANK); "cuda" alone would mean GPU 0 for all
        device_map={"": f"cuda:{os.environ.get('LOCAL_RANK', 0)}" if device == "cuda" else device},
        # CPU: eager attention beats SDPA's CPU kernels at SNLI lengths (bench/cpu_bench.py)
        attn_implementation="eager" if device == "cpu" else "sdpa",
        use_safetensors=True,
        trust_remote_code=False,
    )


def prefer_flash_attention(device: str) -> None:
    """On a GPU, keep SDPA off its cuDNN backend (flash or memory-efficient attention instead). At SNLI's lengths
    attention is a sliver of a step's kernel time, but each cuDNN attention call spends far more host time than the
    flash kernel's (plan lookup), and the embedded model's steps are host-bound: bench/train_step_profile.py's
    ``right-nocudnn`` variant and docs/gpu.md have the measurement. No effect on CPU, where the stages' outputs are
    unchanged."""
    if device == "cuda":
        torch.backends.cuda.enable_cudnn_sdp(False)


def nf4_rounded(source: str, quant: config.Quantization, dtype: torch.dtype, build: bool = True) -> Path:
    """A cached checkpoint of ``source``'s NF4-rounded weights in ``dtype``: quantized by bitsandbytes, then
    dequantized, once per base, quantization and bitsandbytes version. Loading it gives the bit-identical model
    (tested) in a fraction of the time: bitsandbytes' CPU quantization took 2 s of every load for SmolLM2."""
    from importlib.metadata import version

    weights = sorted(Path(source).glob("*.safetensors")) + [Path(source) / "config.json"]
    rounding = {k: v for k, v in dataclasses.asdict(quant).items() if k != "materialize"}  # GPU only: same numbers
    stamp = [str(Path(source).resolve()), json.dumps(rounding, sort_keys=True), str(dtype), version("bitsandbytes")]
    stamp += [f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in weights if f.is_file()]
    key = hashlib.sha256(json.dumps(stamp).encode()).hexdigest()[:12]

    def quantize_and_round(tmp: Path) -> None:
        model = _from_pretrained(source, dtype, quantization_config(quant, dtype), "cpu")
        frozen = [name for name, m in model.named_modules() if type(m).__name__ == "Linear4bit"]
        adapters.dequantize_4bit_layers(model, dtype)
        model.save_pretrained(tmp, safe_serialization=True)
        files.write_json(tmp / NF4_LAYERS, frozen)  # frozen at load, as 4-bit layers are

    folder = sources.cache_dir() / f"{Path(source).name}-nf4-rounded-{key}"
    return sources.cached(folder, quantize_and_round, NF4_REQUIRED) if build else folder


NF4_REQUIRED = ("config.json", NF4_LAYERS)


def nf4_rounded_ready(source: str, quant: config.Quantization, dtype: torch.dtype) -> bool:
    """Whether the NF4-rounded cache of ``source`` is built and whole (loading it needs no bitsandbytes)."""
    return sources.cache_problem(nf4_rounded(source, quant, dtype, build=False), NF4_REQUIRED) is None


def check_local_model(source: str, name: str) -> None:
    """A local model folder must be whole: a truncated or empty weights file is named with its fix."""
    folder = Path(source)
    if not folder.is_dir():
        return
    why = integrity.checkpoint_problem(folder)
    if why:
        cached = folder.resolve().is_relative_to(sources.cache_dir().resolve())
        fix = (
            f"delete {folder} and rerun: it is rebuilt from {name}"
            if cached
            else "re-create or re-download it (a merged model: rerun scripts/merge_adapter.py)"
        )
        raise UserError(f"model folder {folder} is damaged: {folder}/{why}; {fix}")


def _from_nf4_rounded(folder: Path, dtype: torch.dtype) -> torch.nn.Module:
    model = _from_pretrained(folder, dtype, None, "cpu")
    for name in json.loads((folder / NF4_LAYERS).read_text()):
        model.get_submodule(name).requires_grad_(False)
    return model


def load(model: config.Model | Mapping) -> Loaded:
    """Load tokenizer and (optionally NF4-quantized) model as ``params.yaml: model`` says (a mapping is validated
    into that section first: see ``config.model_section``).

    On CPU the NF4 weights are dequantized once (``adapters.dequantize_4bit_layers``): the same NF4-rounded
    numbers the 4-bit layers would compute with, without dequantizing on every forward. For a local model
    they are cached (``nf4_rounded``), so bitsandbytes quantizes each base once, not at every load.
    """
    from transformers import AutoTokenizer

    if isinstance(model, Mapping):
        model = config.model_section(**model)
    run = runtime(model)
    name, device, dtype, quant = model.name, run.device, run.dtype, run.quantization
    source = sources.resolve(name)
    dequantize = run.dequantize_once
    check_local_model(source, name)
    prefer_flash_attention(device)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False)
        if dequantize and Path(source).is_dir():
            network = _from_nf4_rounded(nf4_rounded(source, quant, dtype), dtype)
        else:
            network = _from_pretrained(source, dtype, quantization_config(quant, dtype), device)
            if dequantize or run.materialize_on_gpu:
                adapters.dequantize_4bit_layers(network, dtype)
    except OSError as exc:
        raise UserError(
            f"model {name!r} ({source}) could not be loaded: {str(exc).splitlines()[0][:200]}. If it is a hub "
            f"model, download it where the hub is reachable (`hf download {source}`) and set model.name to "
            f"that folder, or set HF_HOME to a cache that holds it"
        ) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token  # Phi-2 and friends ship no pad token
    tokenizer.padding_side = "left"  # the answer position is then the last one in every row
    network.config.pad_token_id = tokenizer.pad_token_id
    cpu.matrix_input_for_head(network.get_output_embeddings())
    shown = source if not source.startswith(str(sources.cache_dir())) else f"cache:{Path(source).name}"
    info = {
        "model": name,
        "source": shown,
        "device": device,
        "compute_dtype": str(dtype).removeprefix("torch."),
        "quantization": (
            f"{quant.quant_type}{'+double-quant' if quant.double_quant else ''}"
            + (", dequantized once on CPU" if dequantize else "")
            + (", dequantized once on the GPU" if run.materialize_on_gpu else "")
            if quant
            else "none"
        ),
    }
    return Loaded(network, tokenizer, run, info)


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
