# Session 4, call 8 (bundle b3, after call 7 = call2_s4.sh for b2): compile the installed packages' and this
# checkout's bytecode once (what pip does at install), convert the model, then the committed recipe alone on GPU 0
# with nothing else on the machine (plan_alone_s4.json; the compare stage now fits on one BLAS thread).
set -u
bash .gpu/b3/install.sh > /dev/null || exit 1
source .device/gpu/bench/gpu_session/env.sh
t=$(date +%s); python3 -m compileall -q -j 0 /tmp/site src stages xsite > /dev/null 2>&1; echo "compileall $(( $(date +%s) - t )) s"
python3 -c "import time; t=time.time(); from nli.model import sources; sources.convert_embedded(); print('converted', round(time.time()-t,1))" > /tmp/convert.log 2>&1; tail -1 /tmp/convert.log
python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_alone_s4.json --out /tmp/alone2 --work /tmp/runs-alone --deadline 60 --stage-timeout 400 > /tmp/alone2_s4.log 2>&1
cp /tmp/alone2/results.json $OUT/embedded_alone_compiled_h200x2_s4.json; cp /tmp/alone2_s4.log $OUT/alone_compiled_s4.log
grep -v "^    \|it/s\]" /tmp/alone2_s4.log | tail -4
