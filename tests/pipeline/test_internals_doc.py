"""Every touch of a dependency's internals in the code is listed in docs/internals.md with its guard test."""

from __future__ import annotations

import importlib
import inspect
import re

from conftest import ROOT

MODULES = "gguf|torch|transformers|peft|bitsandbytes|bnb|accelerate|dvclive"
# What a touch of a dependency's internals looks like in this code base; each hit must be on a row of the doc's
# "Kept" table that names its file and the touch.
TOUCHES = {
    r"torch\.ops\.\w+\.(_\w+)": 1,  # a private op
    r"torch\.\w+\.(_\w+)\(": 1,  # a private function of a torch submodule
    r"\.(_attn_implementation)\b": 1,
    r"(sys\.modules)\[": 1,
    r"(__dict__)": 1,
    r"\b(hf_quantizer)\b": 1,
    r"\b(is_loaded_in_4bit|is_quantized|model_accepts_loss_kwargs|support_avx512bf16_for_cpu)\b": 1,
    r"\b(MethodType)\b": 1,  # a method swapped onto an instance
    r"\b(trainer_pt_utils|modeling_utils|quantizers)\b": 1,  # transformers' internal modules
    rf"^\s*((?:{MODULES})\.[\w.]+)(?:\s*,\s*(?:{MODULES})\.[\w.]+)*\s*=[^=]": 1,  # a module's attribute patched
}
DEPENDENCIES = ("torch", "transformers", "peft", "bitsandbytes", "gguf", "accelerate", "dvclive")


def kept_rows() -> list[str]:
    doc = (ROOT / "docs" / "internals.md").read_text()
    kept = doc.split("## Kept", 1)[1].split("\n## ", 1)[0]
    return [line for line in kept.splitlines() if line.startswith("|")]


def code_files():
    for folder in ("src", "stages", "scripts"):
        yield from sorted((ROOT / folder).rglob("*.py"))


def test_every_touch_in_the_code_is_on_a_kept_row_of_the_doc():
    rows, missing = kept_rows(), []
    for path in code_files():
        rel = str(path.relative_to(ROOT))
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if line.lstrip().startswith("#"):
                continue
            for pattern, group in TOUCHES.items():
                for match in re.finditer(pattern, line):
                    touch = match.group(group)
                    if not any(rel in row and touch in row for row in rows):
                        missing.append(f"{rel}:{lineno}: {touch}")
    assert not missing, "touches of dependency internals not listed in docs/internals.md:\n" + "\n".join(missing)


def test_every_override_of_a_dependencys_private_method_is_on_a_kept_row():
    rows, missing = kept_rows(), []
    for path in (ROOT / "src").rglob("*.py"):
        module = importlib.import_module(".".join(path.relative_to(ROOT / "src").with_suffix("").parts))
        for cls in vars(module).values():
            if not inspect.isclass(cls) or cls.__module__ != module.__name__:
                continue
            bases = [b for b in cls.__mro__[1:] if b.__module__.split(".")[0] in DEPENDENCIES]
            for name in vars(cls):
                private = name.startswith("_") and not name.startswith("__")
                if private and any(hasattr(b, name) for b in bases):
                    rel = str(path.relative_to(ROOT))
                    if not any(rel in row and name in row for row in rows):
                        missing.append(f"{rel}: {cls.__name__}.{name}")
    assert not missing, "overrides of private methods not listed in docs/internals.md:\n" + "\n".join(missing)


def test_every_guard_test_the_doc_names_exists():
    doc = (ROOT / "docs" / "internals.md").read_text()
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", doc)
    assert len(named) >= len(kept_rows()) - 2  # at least one per kept touch (the table's header is two rows)
    for test_file, name in named:
        assert f"def {name}(" in (ROOT / test_file).read_text(), f"{test_file}::{name}"
