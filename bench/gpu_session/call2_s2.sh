# Session 2, call 2 (bundle b2: bitsandbytes), as run: the CUDA tests, then the Phi-2-shapes bench (memory pass with
# each row alone, then 3 interleaved rounds). Call 1 had overrun its limit, so the left-padded copy of the fast row
# (fast-left) was dropped here to save device time.
set -u
bash .gpu/b2/install.sh > /dev/null || exit 1
source .device/gpu/bench/gpu_session/env.sh
timeout 60 python3 -m pytest -q -s -p no:cacheprovider --noconftest tests/model/test_gpu.py > $OUT/test_gpu_s2.txt 2>&1
tail -2 $OUT/test_gpu_s2.txt
CUDA_VISIBLE_DEVICES=0 timeout 270 python3 bench/gpu_bench.py --configs report,fast,low-mem-fast --out $OUT/gpu_bench_h200_s2.json > $OUT/gpu_bench_s2.log 2>&1; echo "gpu_bench exit $?"
grep "^round\|^memory\|^|\|^GPU\|Error" $OUT/gpu_bench_s2.log | tail -30
