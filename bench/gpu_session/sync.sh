#!/usr/bin/env bash
# Copy what the device calls need from this worktree into the checkout's ignored .device/gpu (the device tool
# sends the checkout, not a worktree). Usage: bench/gpu_session/sync.sh /work/main
set -euo pipefail
src=$(git rev-parse --show-toplevel); dst=$1/.device/gpu
rm -rf "$dst" && mkdir -p "$dst/tests/model" "$dst/bench"
cp -r "$src/src" "$src/stages" "$src/scripts" "$src/conf" "$dst/"
cp "$src/dvc.yaml" "$src/pyproject.toml" "$dst/"
cp "$src/tests/model/test_gpu.py" "$dst/tests/model/" && cp "$src/tests/conftest.py" "$dst/tests/"
cp "$src"/bench/*.py "$dst/bench/" && cp -r "$src/bench/gpu_session" "$dst/bench/"
# The split stage checks the profile label with hydra, which the device's image lacks: its pure-Python packages go
# along from the local environment (env.sh puts them on the path)
site=$("${PYTHON:-$1/.venv/bin/python}" -c "import hydra, os; print(os.path.dirname(os.path.dirname(hydra.__file__)))")
mkdir -p "$dst/xsite" && cp -r "$site/hydra" "$site/omegaconf" "$site/antlr4" "$dst/xsite/"
find "$dst" -name __pycache__ -prune -exec rm -rf {} +
du -sh "$dst"
