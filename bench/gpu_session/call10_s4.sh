# Session 4, call 10: the image's own packages (torch, torchvision, ...) also had no bytecode: compile everything
# into a cache prefix, then time evaluate_baseline again (twice) with the cache in use.
set -u
source .device/gpu/bench/gpu_session/env.sh
root=$PWD; unset PYTHONDONTWRITEBYTECODE; export PYTHONPYCACHEPREFIX=/tmp/pyc
sp=$(python3 -c "import torch, os; print(os.path.dirname(os.path.dirname(torch.__file__)))")
t=$(date +%s); python3 -m compileall -q -j 0 $sp /tmp/site src stages xsite > /dev/null 2>&1; echo "compileall $sp: $(( $(date +%s) - t )) s"
cd /tmp/runs-alone/alone__ctl-s1
ev=$(python3 -c "import sys; sys.path.insert(0, '$root/bench'); import pipeline_runs as p; print(' '.join(p.stage_argv('evaluate_baseline')))")
for i in 1 2; do s=$(date +%s%N); $ev > /dev/null 2>&1; echo "evaluate_baseline with bytecode cache: $(( ($(date +%s%N) - s) / 1000000 )) ms"; done | tee $OUT/baseline_wall_pycache_s4.txt
