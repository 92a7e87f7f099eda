"""Is a saved checkpoint whole? Cheap structural checks of safetensors and JSON files, read before any loading.

A kill, a full disk or a copy that stopped halfway leaves a file shorter than its own header says (or empty); the
loaders then fail deep inside safetensors or transformers. Checking the header (a few KB) against the file's size
finds that first, so callers can rebuild a cache or name the file and the command that restores it.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

MAX_HEADER = 100_000_000  # the safetensors format's own limit on the header


def safetensors_header(path: Path) -> dict:
    """The JSON header of a safetensors file (tensor name -> dtype, shape, data_offsets); ValueError if damaged."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError(f"{size} bytes, shorter than a safetensors header")
        (n,) = struct.unpack("<Q", head)
        if n > min(MAX_HEADER, size - 8):
            raise ValueError(f"truncated: its header needs {n} bytes, the file has {size - 8} after the length")
        try:
            header = json.loads(f.read(n))
        except ValueError:
            raise ValueError("its header is not valid JSON") from None
    if not isinstance(header, dict):
        raise ValueError("its header is not a mapping of tensors")
    end = max((t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"), default=0)
    if 8 + n + end != size:
        raise ValueError(f"truncated: {size} bytes where its header describes {8 + n + end}")
    return header


def problem(path: Path) -> str | None:
    """Why ``path`` (a .safetensors or .json file) is not whole, or None."""
    try:
        if path.suffix == ".safetensors":
            safetensors_header(path)
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, KeyError, IndexError, TypeError, UnicodeDecodeError) as exc:
        return str(exc) if path.suffix == ".safetensors" else f"not valid JSON ({exc})"[:200]
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def checkpoint_problem(folder: Path, required: tuple[str, ...] = ("config.json",)) -> str | None:
    """Why a checkpoint folder is not whole (a required file missing, no weights, a damaged file), or None."""
    if not folder.is_dir():
        return "not a folder"
    missing = [name for name in required if not (folder / name).is_file()]
    if missing:
        return f"{', '.join(missing)} missing"
    files = sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.json"))
    if not any(f.suffix == ".safetensors" for f in files):
        return "no *.safetensors weights"
    for f in files:
        why = problem(f)
        if why:
            return f"{f.name}: {why}"
    return None
