# Call 4: the chosen recipes' seeds (choices read from call 3's results, kept in /tmp), 2 GPUs, fp32.
set -u
source .device/gpu/bench/gpu_session/env.sh
timeout 470 python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_final.json --previous /tmp/sweep_results.json --out $OUT --work /tmp/runs --deadline 290 --stage-timeout 240 2>&1 | grep -v "it/s\]" | tail -40
