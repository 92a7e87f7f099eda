"""dvc.yaml's deps can't drift: each stage depends on exactly the library files its script imports.

The import graph is computed from the code (ast), transitively through the ``nli`` package, so a new
module (or a module split into a package) is picked up without editing this test. A dep may be a
folder, which covers every file under it.
"""

from __future__ import annotations

import ast
import shlex
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

LIBRARY = ROOT / "src"
PACKAGE = "nli"


def module_file(name: str) -> Path | None:
    """``nli.x.y`` → its .py file (a package → its __init__.py); None if it is not in the library."""
    base = LIBRARY.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(path: Path, module: str | None) -> set[str]:
    """Library modules that the file at ``path`` (module ``module``; None for a script) imports."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                parts = module.split(".") if module else []
                package = parts if is_package else parts[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            # `from nli.core import records` imports nli.core.records; `from nli.core.records import read_split` too
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name == PACKAGE or name.startswith(PACKAGE + "."):
                found.add(name)
    return {name for name in found if module_file(name) is not None}


def library_files(script: Path) -> set[Path]:
    """Every library file ``script`` loads, transitively (parent packages' __init__ included if non-empty)."""
    todo, seen = list(imported_modules(script, None)), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # importing a.b runs a/__init__.py
        todo += list(imported_modules(module_file(name), name))
    files = {module_file(name) for name in seen}
    return {f for f in files if not (f.name == "__init__.py" and not f.read_text().strip())}


def stages() -> dict:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def stage_script(stage: dict) -> Path:
    scripts = [arg for arg in shlex.split(stage["cmd"]) if arg.endswith(".py")]
    assert len(scripts) == 1, stage["cmd"]
    return ROOT / scripts[0]


def dep_paths(stage: dict) -> list[Path]:
    return [ROOT / (dep if isinstance(dep, str) else next(iter(dep))) for dep in stage.get("deps", [])]


def covered(path: Path, deps: list[Path]) -> bool:
    return any(path == dep or dep in path.parents for dep in deps)


@pytest.mark.parametrize("name", list(stages()))
def test_stage_deps_match_the_scripts_imports(name):
    stage = stages()[name]
    script, deps = stage_script(stage), dep_paths(stage)
    needed = library_files(script) | {script}
    missing = sorted(str(p.relative_to(ROOT)) for p in needed if not covered(p, deps))
    assert not missing, f"dvc.yaml stage {name!r} lacks deps {missing} (its script imports them)"
    code_deps = [d for d in deps if d.suffix == ".py" or LIBRARY in d.parents or d == LIBRARY]
    extra = sorted(str(d.relative_to(ROOT)) for d in code_deps if not any(p == d or d in p.parents for p in needed))
    assert not extra, f"dvc.yaml stage {name!r} depends on {extra}, which its script never imports"


def test_library_deps_stay_few():
    """`dvc exp show` gives every dep its own column: the library is depended on by concern (folders), so at most
    8 library paths appear across all stages (issue 22), not one per module."""
    paths = {d for stage in stages().values() for d in dep_paths(stage) if LIBRARY in d.parents}
    assert len(paths) <= 8, sorted(str(p.relative_to(ROOT)) for p in paths)
    assert all(p.is_dir() for p in paths), "depend on a concern's folder, not on single modules"


def test_the_import_graph_is_transitive():
    """evaluate.py imports nli.model.scoring, which imports nli.model.loading, which imports nli.model.cpu: the
    graph must find such indirect imports (the original drift was split.py -> nli.data -> nli.prompts)."""
    assert "nli.model.cpu" in imported_modules(LIBRARY / "nli" / "model" / "loading.py", "nli.model.loading")
    assert "nli.model.cpu" not in imported_modules(ROOT / "stages" / "evaluate.py", None)
    files = {p.relative_to(ROOT).as_posix() for p in library_files(ROOT / "stages" / "evaluate.py")}
    assert {
        "src/nli/model/scoring.py",
        "src/nli/model/loading.py",
        "src/nli/model/cpu.py",
        "src/nli/model/sources.py",
    } <= files
