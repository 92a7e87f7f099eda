# Session 5, issue 25: SDPA's cuDNN backend on (src-old: the code before loading.prefer_flash_attention) against off
# (src), the committed recipe's seed 1 through every stage alone on the machine, legs interleaved A B A B; then the
# recipe's seeds 1-3 with the change, every stage (plan_seeds_s5.json), for its test figures. Started by
# call3_ab_s5.sh in a session of its own; run from .device/gpu with env.sh sourced.
set -u
sp=$(python3 -c "import torch, os; print(os.path.dirname(os.path.dirname(torch.__file__)))")
t=$(date +%s); python3 -m compileall -q -j 0 $sp /tmp/site src src-old stages xsite bench > /dev/null 2>&1
echo "compileall $(( $(date +%s) - t )) s" > /tmp/ab_s5.log
python3 -c "import time; t=time.time(); from nli.model import sources; sources.convert_embedded(); print('converted', round(time.time()-t,1))" >> /tmp/ab_s5.log 2>&1
for leg in A1 B1 A2 B2; do
  src=src; [ "${leg:0:1}" = A ] && src=src-old
  PYTHONPATH=/tmp/site:$PWD/$src:$PWD/stages:$PWD/xsite python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_alone_s5.json \
    --out /tmp/ab/$leg --work /tmp/abruns/$leg --deadline 60 --stage-timeout 200 > /tmp/ab_$leg.log 2>&1
  echo "$leg ($src): $(grep "alone/ctl-s1 exit" /tmp/ab_$leg.log)" >> /tmp/ab_s5.log
done
echo done > /tmp/ab.done
export OMP_NUM_THREADS=4
python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_seeds_s5.json --out /tmp/seeds5 --work /tmp/runs-seeds5 \
  --deadline 60 --stage-timeout 400 > /tmp/seeds5.log 2>&1
echo done > /tmp/seeds5.done
