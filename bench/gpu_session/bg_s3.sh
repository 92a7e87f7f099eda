# Session 3: the embedded runs, started by call 3 in a session of their own (setsid) so that they run on across
# calls 3 and 4: convert once, the levers (plan_levers_s3.json), then the final runs chosen from them
# (plan_final_s3.json). Run from .device/gpu with env.sh sourced. Four training processes per GPU at most.
export OMP_NUM_THREADS=4  # eight processes share 32 cores
python3 -c "import time; t=time.time(); from nli.model import sources; sources.convert_embedded(); print('converted', round(time.time()-t,1))" > /tmp/convert_s3.log 2>&1
python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_levers_s3.json --out /tmp/levers --work /tmp/runs --deadline 420 --stage-timeout 330 > /tmp/levers_s3.log 2>&1
echo done > /tmp/levers.done
python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_final_s3.json --previous /tmp/levers/results.json --out /tmp/final --work /tmp/runs --deadline 60 --stage-timeout 400 > /tmp/final_s3.log 2>&1
echo done > /tmp/final.done
