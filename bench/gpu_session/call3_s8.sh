# Session 8, call 3 (after call1_s8.sh and call2_s4.sh): bundle b3, the CUDA tests, then the Phi-2-shapes bench in a
# session of its own (bg_s8.sh; collect_s8.sh brings its files back).
set -u
bash .gpu/b3/install.sh > /dev/null || exit 1
source .device/gpu/bench/gpu_session/env.sh
t=$(date +%s); while [ ! -f /tmp/phi2build.rc ] && [ $(( $(date +%s) - t )) -lt 150 ]; do sleep 2; done
timeout 200 python3 -m pytest -q -p no:cacheprovider tests/model/test_gpu.py > $OUT/test_gpu_h200_s8.txt 2>&1
tail -3 $OUT/test_gpu_h200_s8.txt
setsid nohup bash bench/gpu_session/bg_s8.sh > /dev/null 2>&1 &
bash bench/gpu_session/collect_s8.sh 380
