# Session 3, call 3 (bundle b3: the GGUF complete): start bg_s3.sh in its own session, then wait up to ~560 s and
# bring back what has finished (the levers' results as they stand, the logs).
set -u
bash .gpu/b3/install.sh > /dev/null || exit 1
source .device/gpu/bench/gpu_session/env.sh
setsid nohup bash bench/gpu_session/bg_s3.sh > /tmp/bg_s3.log 2>&1 &
t=$(date +%s); while [ ! -f /tmp/final.done ] && [ $(( $(date +%s) - t )) -lt 555 ]; do sleep 5; done
cat /tmp/convert_s3.log; nvidia-smi --query-gpu=index,memory.used --format=csv
cp /tmp/levers/results.json $OUT/embedded_levers_h200x2_s3.json 2>/dev/null; cp /tmp/levers_s3.log $OUT/levers_s3.log
cp /tmp/final/results.json $OUT/embedded_final_h200x2_s3.json 2>/dev/null; cp /tmp/final_s3.log $OUT/final_s3.log 2>/dev/null
grep -v "^    \|it/s\]" /tmp/levers_s3.log | tail -40
