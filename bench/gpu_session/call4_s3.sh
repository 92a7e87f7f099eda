# Session 3, call 4: wait for bg_s3.sh to finish (the levers, then the final runs), bring back the results and logs.
set -u
source .device/gpu/bench/gpu_session/env.sh
t=$(date +%s); while [ ! -f /tmp/final.done ] && [ $(( $(date +%s) - t )) -lt 570 ]; do sleep 5; done
cp /tmp/levers/results.json $OUT/embedded_levers_h200x2_s3.json; cp /tmp/levers_s3.log $OUT/levers_s3.log
cp /tmp/final/results.json $OUT/embedded_final_h200x2_s3.json 2>/dev/null; cp /tmp/final_s3.log $OUT/final_s3.log 2>/dev/null
grep -v "^    \|it/s\]" /tmp/levers_s3.log | grep "group\|choice" | head -20
grep -v "^    \|it/s\]" /tmp/final_s3.log | tail -20
