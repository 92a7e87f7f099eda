# Session 9 (issue 27): started by call3_s9.sh in a session of its own, run from .device/gpu with env.sh sourced.
# Bytecode compiled first; then plan_blocks_s9.json (split + train, validation blocks 0-4 x training seeds 1-3, three
# training processes on the one GPU), ensembles_s9.py's scoring (members, soups) and its analysis, then
# plan_curve_s9.json (the learning curve) and the analysis again with it. collect_s9.sh brings the files back.
set -u
mkdir -p /tmp/s9
sp=$(python3 -c "import torch, os; print(os.path.dirname(os.path.dirname(torch.__file__)))")
t=$(date +%s); python3 -m compileall -q -j 0 $sp /tmp/site src stages xsite bench > /dev/null 2>&1
echo "compileall $(( $(date +%s) - t )) s" >> /tmp/s9/s9.log
OMP_NUM_THREADS=5 python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_blocks_s9.json --out /tmp/s9/blocks \
  --work /tmp/runs9 --deadline 900 --stage-timeout 400 > /tmp/s9/blocks.log 2>&1
echo "blocks $(( $(date +%s) - t )) s" >> /tmp/s9/s9.log; touch /tmp/s9/blocks.done
OMP_NUM_THREADS=4 python3 bench/gpu_session/ensembles_s9.py --work /tmp/runs9 --out /tmp/ens9 \
  --results /tmp/s9/blocks/results.json > /tmp/s9/ens.log 2>&1
echo "ensembles $(( $(date +%s) - t )) s" >> /tmp/s9/s9.log; touch /tmp/s9/ens.done
OMP_NUM_THREADS=5 python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_curve_s9.json --out /tmp/s9/curve \
  --work /tmp/runs9 --deadline 900 --stage-timeout 400 > /tmp/s9/curve.log 2>&1
python3 bench/gpu_session/ensembles_s9.py --work /tmp/runs9 --out /tmp/ens9 --analyse-only \
  --results /tmp/s9/blocks/results.json /tmp/s9/curve/results.json > /tmp/s9/ens2.log 2>&1
echo "curve $(( $(date +%s) - t )) s" >> /tmp/s9/s9.log; touch /tmp/s9/all.done
