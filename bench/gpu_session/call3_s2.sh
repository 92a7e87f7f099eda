# Session 2, call 3 (bundle b3: the embedded GGUF complete): convert once, split the model load's start cost, then
# the levers on validation (each over training seeds 1 and 2, eight runs sharing the GPU; split + train only).
set -u
bash .gpu/b3/install.sh > /dev/null || exit 1
source .device/gpu/bench/gpu_session/env.sh
python3 -c "import time; t=time.time(); from nli.model import sources; sources.convert_embedded(); print('converted', round(time.time()-t,1))"
CUDA_VISIBLE_DEVICES=0 python3 bench/start_costs.py --skip-imports --model bench/gpu_session/base_full_s2.yaml --pairs data/raw/snli/test.jsonl --repeats 2 --out $OUT/model_load_s2.json 2>&1 | grep "^load"
timeout 520 python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_levers_s2.json --out $OUT --work /tmp/runs --deadline 330 --stage-timeout 200 2>&1 | grep -v "it/s\]" > $OUT/levers_s2.log
cp $OUT/results.json /tmp/levers_results.json
grep -v "^    " $OUT/levers_s2.log | tail -40
