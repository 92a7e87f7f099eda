# Session 7, second machine (one H200), call 3 (after call1_s4.sh and call2_s4.sh): bundle b3; tests/model/test_gpu.py
# (with the merged-adapter test); then, in a session of its own, the Phi-2-shapes bench: the fast row against the
# same row without gradient checkpointing at three batches (the fused GELU holds less), and low-mem-12-fast again.
set -u
bash .gpu/b3/install.sh > /dev/null || exit 1
source .device/gpu/bench/gpu_session/env.sh
setsid nohup bash -c 'while [ ! -f /tmp/phi2build.rc ]; do sleep 2; done; mkdir -p /tmp/phi7b; timeout 560 python3 bench/gpu_bench.py --configs report,fast,fast-nockpt-64,fast-nockpt-96,fast-nockpt-128,low-mem-12-fast --eval-variants fast --out /tmp/phi7b/gpu_bench_nockpt_h200_s7.json > /tmp/phi7b/gpu_bench_nockpt_h200_s7_rounds.txt 2>&1; echo done > /tmp/phi7b.done' > /dev/null 2>&1 &
timeout 200 python3 -m pytest -q -p no:cacheprovider tests/model/test_gpu.py > $OUT/test_gpu_h200_s7.txt 2>&1
{ nvidia-smi --query-gpu=index,name,memory.total,clocks.sm,clocks.max.sm --format=csv; nproc
  python3 -c "import torch, transformers, peft, bitsandbytes; print(torch.__version__, transformers.__version__, peft.__version__, bitsandbytes.__version__, torch.cuda.device_count())"; } > $OUT/machine_h200_s7.txt 2>&1
cat $OUT/machine_h200_s7.txt; tail -3 $OUT/test_gpu_h200_s7.txt
