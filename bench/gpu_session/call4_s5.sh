# Session 5, call 4, as run (typed inline): wait for bg_s5.sh (blocks, then soups_s5.py), then collect_s5.sh.
source .device/gpu/bench/gpu_session/env.sh; t=$(date +%s); while [ ! -f /tmp/soups5.done ] && [ $(( $(date +%s) - t )) -lt 560 ]; do sleep 5; done; bash bench/gpu_session/collect_s5.sh
