# Session 3, call 1 (bundle b1 + data): install, keep the raw data under /tmp, look at the machine, split the Phi-2
# DDP data, and build the Phi-2-shapes model on the CPU in a process of its own session (setsid), so that it goes on
# into call 2 (about two minutes): no GPU work here needs neither bitsandbytes nor a model.
set -u
bash .gpu/b1/install.sh > /dev/null || exit 1
mkdir -p /tmp/snli && cp data/raw/snli/*.jsonl /tmp/snli/
source .device/gpu/bench/gpu_session/env.sh
setsid nohup bash -c 'python3 -c "from nli.model import sources; sources.build_tiny(\"phi-2-shapes\")" > /tmp/phi2build.log 2>&1; echo $? > /tmp/phi2build.rc' > /dev/null 2>&1 &
{ nvidia-smi --query-gpu=index,name,memory.total,clocks.sm,clocks.max.sm --format=csv; nvidia-smi topo -m; nproc
  python3 -c "import torch, transformers, peft; print(torch.__version__, transformers.__version__, peft.__version__, torch.cuda.device_count())"; } > $OUT/machine_s3.txt 2>&1
python3 stages/split.py --params bench/gpu_session/params_phi2_ddp.yaml --raw data/raw/snli --out-dir /tmp/phi2split --metrics /tmp/d.json --run-log /tmp/r.json > $OUT/phi2split_s3.log 2>&1; echo "phi2 split exit $?"
cat $OUT/machine_s3.txt
