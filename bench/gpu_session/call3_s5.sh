# Session 5, call 3 (after call1_s4.sh with b1 + data + .device/gpu, and call2_s4.sh with b2): bundle b3; then, alone
# on the machine, the embedded step bench with and without cuDNN attention on GPU 0 and the Phi-2-shapes bench with
# and without it on GPU 1 (each ratio from interleaved rows within its own process); then bg_s5.sh in its own
# session. Calls 4-5: wait for /tmp/soups5.done, then collect_s5.sh.
set -u
bash .gpu/b3/install.sh > /dev/null || exit 1
source .device/gpu/bench/gpu_session/env.sh
CUDA_VISIBLE_DEVICES=0 timeout 300 python3 bench/train_step_profile.py --out /tmp/steps5 --no-profile --rounds 3 \
  --variants right,right-nocudnn,right-nodrop,right-nodrop-nocudnn > /tmp/steps5.log 2>&1 &
t=$(date +%s); while [ ! -f /tmp/phi2build.rc ] && [ $(( $(date +%s) - t )) -lt 120 ]; do sleep 2; done
CUDA_VISIBLE_DEVICES=1 timeout 330 python3 bench/gpu_bench.py --configs report,fast,fast-nocudnn \
  --out /tmp/gpu_bench_s5.json > /tmp/gpu_bench_s5.log 2>&1
wait
setsid nohup bash bench/gpu_session/bg_s5.sh > /tmp/bg_s5.log 2>&1 &
cp /tmp/steps5/train_step_profile.json $OUT/train_step_nocudnn_h200x2_s5.json 2>/dev/null
cp /tmp/steps5.log $OUT/train_step_nocudnn_h200x2_s5.log; cp /tmp/gpu_bench_s5.log $OUT/gpu_bench_h200x2_s5_rounds.txt
cp /tmp/gpu_bench_s5.json $OUT/gpu_bench_h200x2_s5.json 2>/dev/null
grep "^round\|^|\|Error" /tmp/steps5.log | tail -20
grep "^round\|^memory\|^|\|^GPU\|Error" /tmp/gpu_bench_s5.log | tail -20
