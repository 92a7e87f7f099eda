#!/bin/bash
# The train stage on 1 GPU, then on 2 GPUs under torchrun, same params (Phi-2 shapes, random weights).
# Run on a 2-GPU box from the repo root after `source bench/device_setup.sh`; $1 = params file, $2 = output folder.
set -u
P=$1; O=$2; mkdir -p "$O"
cp "$P" params.yaml
python3 stages/split.py --params params.yaml --raw data/raw/snli --out-dir data/split --metrics "$O/data.json" || exit 2
python3 -c "from nli import checkpoints; checkpoints.build_tiny('phi-2-shapes')"
nvidia-smi topo -m > "$O/topo.txt" 2>&1
T="stages/train.py --params params.yaml --train data/split/train.jsonl --val data/split/val.jsonl --live-dir="
timeout 240 python3 $T --adapter-dir /tmp/a1 --metrics "$O/train_1gpu.json" --checkpoints /tmp/ck1 > "$O/g1.log" 2>&1
echo "1 GPU exit $?"
timeout 300 python3 -m torch.distributed.run --nproc_per_node 2 $T --adapter-dir /tmp/a2 \
  --metrics "$O/train_2gpu.json" --checkpoints /tmp/ck2 > "$O/g2.log" 2>&1
echo "2 GPU exit $?"
python3 - "$O" <<'PY'
import json, sys, pathlib
o = pathlib.Path(sys.argv[1])
rows = {n: json.loads((o / f"train_{n}.json").read_text()) for n in ("1gpu", "2gpu") if (o / f"train_{n}.json").exists()}
for n, r in rows.items():
    print(n, {k: r.get(k) for k in ("examples_per_second", "train_seconds", "steps", "examples_seen", "effective_batch_size",
                                   "best_val_accuracy", "final_train_loss", "peak_cuda_allocated_gb")})
if len(rows) == 2:
    print("speedup", round(rows["2gpu"]["examples_per_second"] / rows["1gpu"]["examples_per_second"], 2))
PY
tail -5 "$O/g2.log"
