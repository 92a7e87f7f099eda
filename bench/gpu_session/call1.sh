# Call 1 (bundle b1 + data): install, keep the raw data under /tmp, look at the machine.
set -u
bash .gpu/b1/install.sh || exit 1
mkdir -p /tmp/snli && cp data/raw/snli/*.jsonl /tmp/snli/
source .device/gpu/bench/gpu_session/env.sh
nvidia-smi --query-gpu=index,name,memory.total,clocks.sm,clocks.max.sm --format=csv | tee $OUT/machine.txt
nvidia-smi topo -m | tee -a $OUT/machine.txt
nproc | tee -a $OUT/machine.txt
python3 -c "import torch, transformers, peft; print(torch.__version__, transformers.__version__, peft.__version__, torch.cuda.device_count())" | tee -a $OUT/machine.txt
python3 -c "import time; t=time.time(); import torch, transformers, peft; from nli.model import scoring; from nli.train import training; print('imports (first, compiles bytecode)', round(time.time()-t,1))"
python3 -c "import time; t=time.time(); import torch, transformers, peft; from nli.model import scoring; from nli.train import training; print('imports (second)', round(time.time()-t,1))"
timeout 240 python3 -c "import time; t=time.time(); from nli.model import sources; sources.build_tiny('phi-2-shapes'); print('phi-2-shapes built', round(time.time()-t,1))"
