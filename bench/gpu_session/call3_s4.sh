# Session 4, call 3 (bundle b3: the GGUF complete): start bg_s4.sh in its own session, wait up to ~560 s, bring
# back what has finished.
set -u
bash .gpu/b3/install.sh > /dev/null || exit 1
source .device/gpu/bench/gpu_session/env.sh
setsid nohup bash bench/gpu_session/bg_s4.sh > /tmp/bg_s4.log 2>&1 &
t=$(date +%s); while [ ! -f /tmp/alone.done ] && [ $(( $(date +%s) - t )) -lt 555 ]; do sleep 5; done
bash bench/gpu_session/collect_s4.sh
