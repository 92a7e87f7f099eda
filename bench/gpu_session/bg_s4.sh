# Session 4: the embedded runs, started by call 3 in a session of their own (setsid) so that they run on across
# calls 3 and 4: convert once, plan_a_s4.json (levers with every stage, then the soups' extra seeds), the soups
# (soups_s4.py), then the committed recipe alone on the machine (plan_alone_s4.json). Run from .device/gpu with
# env.sh sourced. Four training processes per GPU at most.
export OMP_NUM_THREADS=4  # eight processes share 32 cores
python3 -c "import time; t=time.time(); from nli.model import sources; sources.convert_embedded(); print('converted', round(time.time()-t,1))" > /tmp/convert_s4.log 2>&1
python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_a_s4.json --out /tmp/a --work /tmp/runs --deadline 480 --stage-timeout 400 > /tmp/a_s4.log 2>&1
echo done > /tmp/a.done
python3 bench/gpu_session/soups_s4.py --work /tmp/runs --out /tmp/soups > /tmp/soups_s4.log 2>&1
echo done > /tmp/soups.done
unset OMP_NUM_THREADS
python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_alone_s4.json --out /tmp/alone --work /tmp/runs-alone --deadline 60 --stage-timeout 400 > /tmp/alone_s4.log 2>&1
echo done > /tmp/alone.done
