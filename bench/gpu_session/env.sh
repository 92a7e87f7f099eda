# Sourced by every call after the bundle's install (from /work/main on the device): our code in .device/gpu.
source /tmp/gpu-env.sh
cd .device/gpu || exit 1
export PYTHONPATH=/tmp/site:$PWD/src:$PWD/stages:$PWD/xsite SNLI_QLORA_CACHE=/tmp/cache
mkdir -p data/raw && [ -d /tmp/snli ] && ln -sfn /tmp/snli data/raw/snli
