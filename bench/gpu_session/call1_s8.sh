# Session 8, call 1 (bundle b1 + data): install, keep the raw data under /tmp, look at the machine, and build the
# Phi-2-shapes checkpoint on the CPU in a session of its own (the bench in call 3 needs it).
set -u
bash .gpu/b1/install.sh > /dev/null || exit 1
mkdir -p /tmp/snli && cp data/raw/snli/*.jsonl /tmp/snli/
source .device/gpu/bench/gpu_session/env.sh
setsid nohup bash -c 'python3 -c "from nli.model import sources; sources.build_tiny(\"phi-2-shapes\")" > /tmp/phi2build.log 2>&1; echo $? > /tmp/phi2build.rc' > /dev/null 2>&1 &
{ nvidia-smi --query-gpu=index,name,memory.total,clocks.sm,clocks.max.sm --format=csv; nproc
  python3 -c "import torch, transformers, peft; print(torch.__version__, transformers.__version__, peft.__version__, torch.cuda.device_count())"; } > $OUT/machine_h200_s8.txt 2>&1
cat $OUT/machine_h200_s8.txt
