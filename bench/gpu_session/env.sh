# Sourced by every call after the bundle's install (from /work/main on the device): our code in .device/gpu.
source /tmp/gpu-env.sh
cd .device/gpu || exit 1
export PYTHONPATH=/tmp/site:$PWD/src:$PWD/stages:$PWD/xsite SNLI_QLORA_CACHE=/tmp/cache
mkdir -p data/raw && [ -d /tmp/snli ] && ln -sfn /tmp/snli data/raw/snli
# The image sets PYTHONDONTWRITEBYTECODE=1 and the bundles install --no-compile, so every stage process compiled
# ~3,800 source files (session 4: about 6 s a stage). Cache the bytecode as a pip install would: the first process
# writes it, the rest reuse it.
unset PYTHONDONTWRITEBYTECODE; export PYTHONPYCACHEPREFIX=/tmp/pyc
