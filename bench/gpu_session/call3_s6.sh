# Session 6, call 3 (after call1_s4.sh with b1 + data + .device/gpu, and call2_s4.sh with b2): bundle b3; convert the
# embedded model once; alone on the machine, the NF4-rounded cache against the GPU's materialised weights
# (nf4_cache_s6.py on SmolLM2, tests/model/test_gpu.py on the tiny Llama); then bg_s6.sh in a session of its own.
# Calls 4 on: wait for the next /tmp/*6.done, then collect_s6.sh.
set -u
bash .gpu/b3/install.sh > /dev/null || exit 1
source .device/gpu/bench/gpu_session/env.sh
python3 -c "import time; t=time.time(); from nli.model import sources; sources.convert_embedded(); print('converted', round(time.time()-t,1))" > /tmp/s6.log 2>&1
python3 bench/gpu_session/nf4_cache_s6.py --rounds 3 --out $OUT/nf4_cache_h200x2_s6.json > /tmp/nf4_cache_s6.log 2>&1
timeout 200 python3 -m pytest -q -p no:cacheprovider tests/model/test_gpu.py > $OUT/test_gpu_h200x2_s6.txt 2>&1
setsid nohup bash bench/gpu_session/bg_s6.sh > /tmp/bg_s6.out 2>&1 &
cp /tmp/nf4_cache_s6.log $OUT/nf4_cache_h200x2_s6.log
{ nvidia-smi --query-gpu=index,name,memory.total,clocks.sm,clocks.max.sm --format=csv; nproc
  python3 -c "import torch, transformers, peft, bitsandbytes; print(torch.__version__, transformers.__version__, peft.__version__, bitsandbytes.__version__, torch.cuda.device_count())"; } > $OUT/machine_h200x2_s6.txt 2>&1
cat /tmp/s6.log $OUT/machine_h200x2_s6.txt; grep -v "it/s\]\|^\[transformers\]" /tmp/nf4_cache_s6.log | tail -8; tail -3 $OUT/test_gpu_h200x2_s6.txt
