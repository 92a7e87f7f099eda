# Session 8, call 4 (the machine still warm after call4_s8.sh): the third bench process (bg3_s8.sh).
set -u
source .device/gpu/bench/gpu_session/env.sh
setsid nohup bash bench/gpu_session/bg3_s8.sh > /dev/null 2>&1 &
bash bench/gpu_session/collect_s8.sh 420 bench3
