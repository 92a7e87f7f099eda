# Session 5: started by call3_s5.sh in a session of its own (setsid): convert once, plan_blocks_s5.json (the committed
# recipe over validation blocks 0-4 and training seeds 1-3, split + train), then soups_s5.py. Run from .device/gpu with
# env.sh sourced. Four training processes per GPU at most.
export OMP_NUM_THREADS=4  # eight processes share 32 cores
python3 -c "import time; t=time.time(); from nli.model import sources; sources.convert_embedded(); print('converted', round(time.time()-t,1))" > /tmp/convert_s5.log 2>&1
python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_blocks_s5.json --out /tmp/blocks --work /tmp/runs --deadline 480 --stage-timeout 400 > /tmp/blocks_s5.log 2>&1
echo done > /tmp/blocks.done
python3 bench/gpu_session/soups_s5.py --work /tmp/runs --out /tmp/soups5 > /tmp/soups_s5.log 2>&1
echo done > /tmp/soups5.done
