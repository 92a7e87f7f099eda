# Session 6's device calls, as run (not a script to run whole). One nvidia-h200-x2 machine for calls 1-9, then a
# fresh nvidia-h200 for calls 10-11, and a fresh nvidia-h200-x2 for calls 12-14.
# 1: bash bench/gpu_session/call1_s4.sh                       carry .gpu/b1 data/raw/snli .device/gpu
# 2: bash bench/gpu_session/call2_s4.sh                       carry .gpu/b2
# 3: bash bench/gpu_session/call3_s6.sh                       carry .gpu/b3 (starts bg_s6.sh)
# 4-6: wait for /tmp/batch6.done, /tmp/seeds6.done, /tmp/alone6.done in turn, then collect:
source .device/gpu/bench/gpu_session/env.sh; t=$(date +%s); while [ ! -f /tmp/batch6.done ] && [ $(( $(date +%s) - t )) -lt 560 ]; do sleep 3; done; bash bench/gpu_session/collect_s6.sh
# 7: the Phi-2-shapes bench alone on GPU 0
source .device/gpu/bench/gpu_session/env.sh; t=$(date +%s); python3 -c "from nli.model import sources; sources.build_tiny('phi-2-shapes')" > /tmp/phi2build.log 2>&1; CUDA_VISIBLE_DEVICES=0 timeout $(( 560 - $(date +%s) + t )) python3 bench/gpu_bench.py --configs report,fast,low-mem-8bit,low-mem-fast --out $OUT/gpu_bench_h200x2_s6.json > $OUT/gpu_bench_h200x2_s6_rounds.txt 2>&1
# 8-9: low-mem rows in one larger step (rows added to gpu_bench.py between the calls; sync.sh, carry .device/gpu)
source .device/gpu/bench/gpu_session/env.sh; CUDA_VISIBLE_DEVICES=0 timeout 500 python3 bench/gpu_bench.py --configs report,low-mem-fast,low-mem-16-fast,low-mem-32-fast --out $OUT/gpu_bench_lowmem_h200x2_s6.json > $OUT/gpu_bench_lowmem_h200x2_s6_rounds.txt 2>&1
source .device/gpu/bench/gpu_session/env.sh; CUDA_VISIBLE_DEVICES=0 timeout 400 python3 bench/gpu_bench.py --configs report,low-mem-10-fast,low-mem-12-fast --out $OUT/gpu_bench_lowmem2_h200x2_s6.json > $OUT/gpu_bench_lowmem2_h200x2_s6_rounds.txt 2>&1
# 10-11 (nvidia-h200): b1 + data + .device/gpu installed, then b2 and tests/model/test_gpu.py after its change
bash .gpu/b2/install.sh > /dev/null || exit 1; source .device/gpu/bench/gpu_session/env.sh; timeout 150 python3 -m pytest -q -p no:cacheprovider tests/model/test_gpu.py > $OUT/test_gpu_h200_s6_after.txt 2>&1
# 12-14 (a fresh nvidia-h200-x2): b1 + data + .device/gpu, b2, then b3 and the adopted recipe on two GPUs
bash .gpu/b3/install.sh > /dev/null || exit 1; source .device/gpu/bench/gpu_session/env.sh; python3 -c "from nli.model import sources; sources.convert_embedded()" > /tmp/conv.log 2>&1; OMP_NUM_THREADS=8 python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_gpus2_s6.json --out $OUT/gpus2 --work /tmp/runs-g2 --deadline 150 --stage-timeout 200 > $OUT/gpus2.log 2>&1
