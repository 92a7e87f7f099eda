# Session 2, call 2 (bundle b2: bitsandbytes): the CUDA tests, then the Phi-2-shapes bench: the memory pass (each
# row alone), then the rows interleaved over 3 rounds, the fast row also left-padded.
set -u
bash .gpu/b2/install.sh > /dev/null || exit 1
source .device/gpu/bench/gpu_session/env.sh
python3 -m pytest -q -s -p no:cacheprovider --noconftest tests/model/test_gpu.py > $OUT/test_gpu_s2.txt 2>&1
CUDA_VISIBLE_DEVICES=0 timeout 450 python3 bench/gpu_bench.py --configs report,fast,fast-left,low-mem-fast --out $OUT/gpu_bench_h200_s2.json > $OUT/gpu_bench_s2.log 2>&1; echo "gpu_bench exit $?"
tail -3 $OUT/test_gpu_s2.txt
grep "^round\|^memory\|^|\|^GPU\|Error" $OUT/gpu_bench_s2.log | tail -30
