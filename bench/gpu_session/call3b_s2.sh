# Session 2, call 3b, as run: the levers again, hydra carried in .device/gpu/xsite (env.sh adds it to the path).
set -u
source .device/gpu/bench/gpu_session/env.sh
python3 -c "import hydra; print('hydra', hydra.__version__)"
timeout 430 python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_levers_s2.json --out $OUT --work /tmp/runs --deadline 240 --stage-timeout 190 2>&1 | grep -v "it/s\]" > $OUT/levers_s2.log
cp $OUT/results.json /tmp/levers_results.json
grep -v "^    " $OUT/levers_s2.log | tail -40
