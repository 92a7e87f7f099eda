# Session 7 (issues 27 and 25.2): started by call3_s7.sh in a session of its own, run from .device/gpu with env.sh
# sourced. Bytecode compiled first; the Phi-2-shapes checkpoint built on the CPU meanwhile; then plan_dora_s7.json
# (split + train, validation blocks 0-4, three training processes per GPU), the choice (make_plans_s7.py has the
# rule), the chosen recipe's seeds 1-3 (every stage), and last the Phi-2-shapes bench alone on GPU 0.
set -u
setsid nohup bash -c 'python3 -c "from nli.model import sources; sources.build_tiny(\"phi-2-shapes\")" > /tmp/phi2build.log 2>&1; echo $? > /tmp/phi2build.rc' > /dev/null 2>&1 &
sp=$(python3 -c "import torch, os; print(os.path.dirname(os.path.dirname(torch.__file__)))")
t=$(date +%s); python3 -m compileall -q -j 0 $sp /tmp/site src stages xsite bench > /dev/null 2>&1
echo "compileall $(( $(date +%s) - t )) s" >> /tmp/s7.log
OMP_NUM_THREADS=5 python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_dora_s7.json --out /tmp/dora7 \
  --work /tmp/runs7 --deadline 400 --stage-timeout 400 > /tmp/dora7.log 2>&1
python3 bench/gpu_session/make_plans_s7.py --choose /tmp/dora7/results.json >> /tmp/s7.log 2>&1
echo done > /tmp/dora7.done
OMP_NUM_THREADS=8 python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_seeds_s7.json --out /tmp/seeds7 \
  --work /tmp/runs-seeds7 --deadline 60 --stage-timeout 400 > /tmp/seeds7.log 2>&1
echo done > /tmp/seeds7.done
while [ ! -f /tmp/phi2build.rc ]; do sleep 2; done
mkdir -p /tmp/phi7
CUDA_VISIBLE_DEVICES=0 timeout 560 python3 bench/gpu_bench.py \
  --configs report,report-fused,fast,fast-stock,low-mem-11-fast,low-mem-12-fast --eval-variants fast --profile fast \
  --out /tmp/phi7/gpu_bench_h200x2_s7.json > /tmp/phi7/gpu_bench_h200x2_s7_rounds.txt 2>&1
echo done > /tmp/phi7.done
