# Session 9, call 1 (bundle b1 + data): install, keep the raw data under /tmp, look at the machine.
set -u
bash .gpu/b1/install.sh > /dev/null || exit 1
mkdir -p /tmp/snli && cp data/raw/snli/*.jsonl /tmp/snli/
source .device/gpu/bench/gpu_session/env.sh
{ nvidia-smi --query-gpu=index,name,memory.total,clocks.sm,clocks.max.sm --format=csv; nproc
  python3 -c "import torch, transformers, peft; print(torch.__version__, transformers.__version__, peft.__version__, torch.cuda.device_count())"; } > $OUT/machine_h200_s9.txt 2>&1
cat $OUT/machine_h200_s9.txt
