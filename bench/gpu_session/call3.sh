# Call 3 (bundle b3: the embedded GGUF complete): convert once, then the validation sweep (4 runs at a time).
set -u
bash .gpu/b3/install.sh || exit 1
source .device/gpu/bench/gpu_session/env.sh
python3 -c "import time; t=time.time(); from nli.model import sources; sources.convert_embedded(); print('converted', round(time.time()-t,1))"
timeout 555 python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_sweep.json --out $OUT --work /tmp/runs --deadline 420 --stage-timeout 240 2>&1 | grep -v "it/s\]" | tail -40
cp $OUT/results.json /tmp/sweep_results.json
