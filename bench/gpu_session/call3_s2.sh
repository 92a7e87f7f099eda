# Session 2, call 3 (bundle b3: the embedded GGUF complete), as run: convert once, then the levers on validation (each
# over training seeds 1 and 2, eight runs sharing the GPU; split + train only). The model-load split planned here was
# dropped for device time. Its first try failed in every split stage (hydra, which the split stage uses to check the
# profile label, is not in the device's image); call 3b below reran the levers with hydra carried (sync.sh, xsite/).
set -u
bash .gpu/b3/install.sh > /dev/null || exit 1
source .device/gpu/bench/gpu_session/env.sh
python3 -c "import time; t=time.time(); from nli.model import sources; sources.convert_embedded(); print('converted', round(time.time()-t,1))"
timeout 440 python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_levers_s2.json --out $OUT --work /tmp/runs --deadline 250 --stage-timeout 190 2>&1 | grep -v "it/s\]" > $OUT/levers_s2.log
cp $OUT/results.json /tmp/levers_results.json
grep -v "^    " $OUT/levers_s2.log | tail -40
