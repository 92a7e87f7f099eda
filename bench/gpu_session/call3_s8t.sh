# Session 8, a second machine (after `bash .gpu/b1/install.sh` and call2_s4.sh): bundle b3, then the CUDA tests only,
# after their hook-removal checks were rewritten to check behaviour (no private torch attributes).
set -u
bash .gpu/b3/install.sh > /dev/null || exit 1
source .device/gpu/bench/gpu_session/env.sh
timeout 200 python3 -m pytest -q -p no:cacheprovider tests/model/test_gpu.py > $OUT/test_gpu_h200_s8t.txt 2>&1
tail -3 $OUT/test_gpu_h200_s8t.txt
