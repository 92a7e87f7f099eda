# Session 8, call 4 (the machine still warm after call3_s8.sh): the second bench process (bg2_s8.sh).
set -u
source .device/gpu/bench/gpu_session/env.sh
setsid nohup bash bench/gpu_session/bg2_s8.sh > /dev/null 2>&1 &
bash bench/gpu_session/collect_s8.sh 560 bench2
