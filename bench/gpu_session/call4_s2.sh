# Session 2, call 4, as run: the lever with the best mean validation ("win"), every stage: seed 1 alone on the machine
# (the pipeline's time), then its seeds 2-3, the committed recipe's seeds 1-3 and the winner in fp32, eight runs
# sharing the GPU (four of them ran out of GPU memory: eight processes of up to ~20 GB reserved each); two of the
# levers' failure logs come back too.
set -u
source .device/gpu/bench/gpu_session/env.sh
timeout 470 python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_final_s2.json --previous /tmp/levers_results.json --out $OUT --work /tmp/runs --deadline 200 --stage-timeout 300 2>&1 | grep -v "it/s\]" > $OUT/final_s2.log
grep -v "^    " $OUT/final_s2.log | tail -30
cp /tmp/runs/levers__nef5-s2/log.txt $OUT/fail_nef5_s2.txt; cp /tmp/runs/levers__lr8e-4-s1/log.txt $OUT/fail_lr8e-4_s1.txt
