# Session 6 (issue 25: batch 256 against 128; make_plans_s6.py has the rule): started by call3_s6.sh in a session of
# its own, run from .device/gpu with env.sh sourced. Bytecode compiled first (as a pip install leaves it); then
# plan_batch_s6.json (split + train, validation blocks 0-4, three training processes per GPU: a batch of 256 holds
# about twice the memory), the choice, the chosen recipe's seeds 2-3 (every stage, one per GPU), and last the
# pipeline alone on GPU 0, committed (A) and chosen (B) interleaved; a leg not started by the deadline is left out.
set -u
sp=$(python3 -c "import torch, os; print(os.path.dirname(os.path.dirname(torch.__file__)))")
t=$(date +%s); python3 -m compileall -q -j 0 $sp /tmp/site src stages xsite bench > /dev/null 2>&1
echo "compileall $(( $(date +%s) - t )) s" >> /tmp/s6.log
OMP_NUM_THREADS=5 python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_batch_s6.json --out /tmp/batch6 \
  --work /tmp/runs6 --deadline 600 --stage-timeout 400 > /tmp/batch6.log 2>&1
python3 bench/gpu_session/make_plans_s6.py --choose /tmp/batch6/results.json >> /tmp/s6.log 2>&1
echo done > /tmp/batch6.done
OMP_NUM_THREADS=8 python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_seeds_s6.json --out /tmp/seeds6 \
  --work /tmp/runs-seeds6 --deadline 60 --stage-timeout 400 > /tmp/seeds6.log 2>&1
echo done > /tmp/seeds6.done
python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_alone_s6.json --out /tmp/alone6 --work /tmp/runs-alone6 \
  --deadline 520 --stage-timeout 300 > /tmp/alone6.log 2>&1
echo done > /tmp/alone6.done
