# Session 2, call 1 (bundle b1 + data), as run (it overran its 420 s limit in the profile: the profile JSON and
# the `right` profile did not come back; the rounds and `old` profile did): the machine, each GPU stage's start costs, the train step of the embedded
# recipe profiled on a model of its shapes, Phi-2 shapes built for call 2 (CPU, at the same time).
set -u
bash .gpu/b1/install.sh > /dev/null || exit 1
mkdir -p /tmp/snli && cp data/raw/snli/*.jsonl /tmp/snli/
source .device/gpu/bench/gpu_session/env.sh
{ nvidia-smi --query-gpu=index,name,memory.total,clocks.sm,clocks.max.sm --format=csv; nproc
  python3 -c "import torch, transformers, peft; print(torch.__version__, transformers.__version__, peft.__version__, torch.cuda.device_count())"; } > $OUT/machine_s2.txt 2>&1
python3 bench/start_costs.py --out $OUT/start_costs_s2.json --repeats 1 > $OUT/call1_s2.log 2>&1
(t=$(date +%s); timeout 300 python3 -c "from nli.model import sources; sources.build_tiny('phi-2-shapes')" > /dev/null 2>&1; echo "phi-2-shapes built: exit $? in $(( $(date +%s) - t )) s" >> $OUT/call1_s2.log) &
CUDA_VISIBLE_DEVICES=0 timeout 300 python3 bench/train_step_profile.py --out $OUT/tsp --steps 12 --variants old,nosync,right,right-b256,right-val > $OUT/train_step_profile_s2.log 2>&1; echo "profile exit $?"
wait
cat $OUT/machine_s2.txt | head -4
grep -v "^    " $OUT/call1_s2.log
grep "^round\|^profile\|^|\|^{\|Error" $OUT/train_step_profile_s2.log
