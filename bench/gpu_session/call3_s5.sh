# Session 5, call 3 (after call1_s4.sh with b1 + data + .device/gpu, and call2_s4.sh with b2): bundle b3, then
# bg_s5.sh in its own session; wait up to ~560 s and bring back what has finished. Call 4: collect_s5.sh after a wait.
set -u
bash .gpu/b3/install.sh > /dev/null || exit 1
source .device/gpu/bench/gpu_session/env.sh
setsid nohup bash bench/gpu_session/bg_s5.sh > /tmp/bg_s5.log 2>&1 &
t=$(date +%s); while [ ! -f /tmp/soups5.done ] && [ $(( $(date +%s) - t )) -lt 555 ]; do sleep 5; done
bash bench/gpu_session/collect_s5.sh
