# Session 7: the DoRA runs that ran out of memory, two at a time on GPU 1 (make_plans_s7.py --again), while the
# Phi-2-shapes bench runs on GPU 0; then the choice over both tries, and the chosen recipe's seeds 1-3 on GPU 1.
set -u
python3 bench/gpu_session/make_plans_s7.py --again /tmp/dora7/results.json >> /tmp/s7.log 2>&1
OMP_NUM_THREADS=4 python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_dora2_s7.json --out /tmp/dora27 \
  --work /tmp/runs27 --deadline 330 --stage-timeout 400 > /tmp/dora27.log 2>&1
python3 bench/gpu_session/make_plans_s7.py --choose /tmp/dora7/results.json /tmp/dora27/results.json >> /tmp/s7.log 2>&1
echo done > /tmp/dora27.done
sed -i 's/"slots": \[[^]]*\]/"slots": ["1", "1"]/' bench/gpu_session/plan_seeds_s7.json
OMP_NUM_THREADS=4 python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_seeds_s7.json --out /tmp/seeds27 \
  --work /tmp/runs-seeds27 --deadline 60 --stage-timeout 400 > /tmp/seeds27.log 2>&1
echo done > /tmp/seeds27.done
