# Session 5, call 7 (on a fresh machine, after call1_s4.sh with b1 + data + .device/gpu and call2_s4.sh with b2):
# bundle b3, then bg_ab_s5.sh in a session of its own; wait up to ~550 s and bring back what has finished. Call 9
# waits for /tmp/seeds5.done, then collect_ab_s5.sh.
set -u
bash .gpu/b3/install.sh > /dev/null || exit 1
source .device/gpu/bench/gpu_session/env.sh
setsid nohup bash bench/gpu_session/bg_ab_s5.sh > /tmp/bg_ab_s5.out 2>&1 &
t=$(date +%s); while [ ! -f /tmp/seeds5.done ] && [ $(( $(date +%s) - t )) -lt 550 ]; do sleep 5; done
bash bench/gpu_session/collect_ab_s5.sh
