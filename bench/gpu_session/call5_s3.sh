# Session 3, call 5 (only if device time remains): the Phi-2-shapes bench on GPU 0 alone, with the left-padded copy
# of the fast row (fast-left) that session 2 dropped: the padding's effect on Phi-2 in the same rounds.
set -u
source .device/gpu/bench/gpu_session/env.sh
CUDA_VISIBLE_DEVICES=0 timeout 330 python3 bench/gpu_bench.py --configs report,fast,fast-left,low-mem-fast --out $OUT/gpu_bench_h200x2_s3.json > $OUT/gpu_bench_s3.log 2>&1; echo "gpu_bench exit $?"
grep "^round\|^memory\|^|\|^GPU\|Error" $OUT/gpu_bench_s3.log | tail -30
