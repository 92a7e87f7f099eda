# Session 9, call 3 (after call1_s9.sh and call2_s4.sh): bundle b3, then bg_s9.sh in a session of its own;
# collect_s9.sh waits for the block runs' ensembles and brings back what is done.
set -u
bash .gpu/b3/install.sh > /dev/null || exit 1
source .device/gpu/bench/gpu_session/env.sh
setsid nohup bash bench/gpu_session/bg_s9.sh > /dev/null 2>&1 &
bash bench/gpu_session/collect_s9.sh 500 ens
