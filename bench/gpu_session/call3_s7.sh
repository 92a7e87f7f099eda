# Session 7, call 3 (after call1_s4.sh with b1 + data + .device/gpu, and call2_s4.sh with b2): bundle b3; convert the
# embedded model once; then bg_s7.sh in a session of its own. Calls 4 on: wait for the next /tmp/*7.done, then
# collect_s7.sh.
set -u
bash .gpu/b3/install.sh > /dev/null || exit 1
source .device/gpu/bench/gpu_session/env.sh
python3 -c "import time; t=time.time(); from nli.model import sources; sources.convert_embedded(); print('converted', round(time.time()-t,1))" > /tmp/s7.log 2>&1
setsid nohup bash bench/gpu_session/bg_s7.sh > /tmp/bg_s7.out 2>&1 &
{ nvidia-smi --query-gpu=index,name,memory.total,clocks.sm,clocks.max.sm --format=csv; nproc
  python3 -c "import torch, transformers, peft, bitsandbytes; print(torch.__version__, transformers.__version__, peft.__version__, bitsandbytes.__version__, torch.cuda.device_count())"; } > $OUT/machine_h200x2_s7.txt 2>&1
cat /tmp/s7.log $OUT/machine_h200x2_s7.txt
