# Session 4, call 2 (bundle b2: bitsandbytes): install only.
set -u
bash .gpu/b2/install.sh > /dev/null || exit 1
source .device/gpu/bench/gpu_session/env.sh
python3 -c "import bitsandbytes, torch; print('bitsandbytes', bitsandbytes.__version__, torch.cuda.device_count())" 2>&1 | tail -1
