# Session 5, call 9, as run (typed inline; call 8 tried this file before it was on the machine and found nothing):
# after call3_ab_s5.sh, wait for the seeds and collect them, then a third A/B pair (A3, B3) alone on the machine.
source .device/gpu/bench/gpu_session/env.sh
t=$(date +%s); while [ ! -f /tmp/seeds5.done ] && [ $(( $(date +%s) - t )) -lt 250 ]; do sleep 3; done
bash bench/gpu_session/collect_ab_s5.sh | grep "^| seeds"
new=$PWD; old=/tmp/oldtree
for leg in A3 B3; do
  tree=$new; [ "${leg:0:1}" = A ] && tree=$old
  (cd $tree && PYTHONPATH=/tmp/site:$tree/src:$tree/stages:$tree/xsite python3 bench/pipeline_runs.py \
    --plan bench/gpu_session/plan_alone_s5.json --out /tmp/ab/$leg --work /tmp/abruns/$leg --deadline 60 \
    --stage-timeout 200 > /tmp/ab_$leg.log 2>&1)
  cp /tmp/ab/$leg/results.json $OUT/ab/embedded_alone_$leg.json 2>/dev/null
  echo "$leg ($tree): $(grep "alone/ctl-s1 exit" /tmp/ab_$leg.log)" | tee -a /tmp/ab_s5.log
done
cp /tmp/ab_s5.log $OUT/ab/ab_s5.log
