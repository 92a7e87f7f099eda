# Session 4, call 4: wait for bg_s4.sh to finish, bring back the results and logs.
set -u
source .device/gpu/bench/gpu_session/env.sh
t=$(date +%s); while [ ! -f /tmp/alone.done ] && [ $(( $(date +%s) - t )) -lt 570 ]; do sleep 5; done
bash bench/gpu_session/collect_s4.sh
