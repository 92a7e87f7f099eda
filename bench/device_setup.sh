#!/bin/bash
# Source on the GPU box from the copied repo root: installs the carried wheels once into /tmp/site
# (kept while the machine stays warm) and sets the paths. Wheels: ../whl/*.whl (bitsandbytes, peft,
# transformers, gguf), carried beside this copy.
if [ ! -f /tmp/site/.done ]; then
  python3 -m pip install -q --no-deps --target /tmp/site ../whl/*.whl && touch /tmp/site/.done
fi
export PYTHONPATH=/tmp/site:$PWD/src:$PWD/stages SNLI_QLORA_CACHE=/tmp/cache HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
python3 -c "import torch, transformers, peft, bitsandbytes; print('torch', torch.__version__, 'transformers', transformers.__version__, 'peft', peft.__version__, 'bnb', bitsandbytes.__version__, torch.cuda.get_device_name())"
