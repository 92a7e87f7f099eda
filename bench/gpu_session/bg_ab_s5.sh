# Session 5, issue 25: SDPA's cuDNN backend on (A: the code before loading.prefer_flash_attention, in src-old) against
# off (B: src), the committed recipe's seed 1 through every stage alone on the machine, legs interleaved A B A B; then
# the recipe's seeds 1-3 with the change, every stage (plan_seeds_s5.json), for its test figures. Started by
# call3_ab_s5.sh in a session of its own; run from .device/gpu with env.sh sourced. The stage scripts put the src/
# beside their own folder first on the path (stages/_checkout.py), so A runs from a copy of this tree with src-old
# as its src/.
set -u
new=$PWD; old=/tmp/oldtree
rm -rf $old && mkdir -p $old && cp -r $(ls -A | grep -v '^src') $old/ && rm -rf $old/src-old && cp -r src-old $old/src
sp=$(python3 -c "import torch, os; print(os.path.dirname(os.path.dirname(torch.__file__)))")
t=$(date +%s); python3 -m compileall -q -j 0 $sp /tmp/site src stages xsite bench $old/src $old/stages $old/bench > /dev/null 2>&1
echo "compileall $(( $(date +%s) - t )) s" > /tmp/ab_s5.log
python3 -c "import time; t=time.time(); from nli.model import sources; sources.convert_embedded(); print('converted', round(time.time()-t,1))" >> /tmp/ab_s5.log 2>&1
for leg in A1 B1 A2 B2; do
  tree=$new; [ "${leg:0:1}" = A ] && tree=$old
  (cd $tree && PYTHONPATH=/tmp/site:$tree/src:$tree/stages:$tree/xsite python3 bench/pipeline_runs.py \
    --plan bench/gpu_session/plan_alone_s5.json --out /tmp/ab/$leg --work /tmp/abruns/$leg --deadline 60 \
    --stage-timeout 200 > /tmp/ab_$leg.log 2>&1)
  echo "$leg ($tree): $(grep "alone/ctl-s1 exit" /tmp/ab_$leg.log)" >> /tmp/ab_s5.log
done
grep -c prefer_flash $old/src/nli/model/loading.py $new/src/nli/model/loading.py >> /tmp/ab_s5.log
echo done > /tmp/ab.done
export OMP_NUM_THREADS=4
python3 bench/pipeline_runs.py --plan bench/gpu_session/plan_seeds_s5.json --out /tmp/seeds5 --work /tmp/runs-seeds5 \
  --deadline 60 --stage-timeout 400 > /tmp/seeds5.log 2>&1
echo done > /tmp/seeds5.done
