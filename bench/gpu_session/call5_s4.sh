# Session 4, call 5: where the alone run's fixed costs go (compare with 4 threads and with torch's default of all
# cores, each twice; cProfile and import times of evaluate_finetuned), then the Phi-2-shapes bench with the
# left-padded row (report, fast, fast-left) on GPU 0, nothing else running.
set -u
source .device/gpu/bench/gpu_session/env.sh
root=$PWD; cd /tmp/runs-alone/alone__ctl-s1
argv() { python3 -c "import sys; sys.path.insert(0, '$root/bench'); import pipeline_runs as p; print(' '.join(p.stage_argv('$1')))"; }
cmp=$(argv compare); ev=$(argv evaluate_finetuned)
for t in 4 32 4 32; do s=$(date +%s%N); OMP_NUM_THREADS=$t $cmp > /dev/null 2>&1; echo "compare OMP_NUM_THREADS=$t: $(( ($(date +%s%N) - s) / 1000000 )) ms"; done | tee $OUT/fixed_costs_s4.txt
OMP_NUM_THREADS=32 python3 -m cProfile -s cumtime ${cmp#* } 2>&1 | grep -A 30 "Ordered by" > $OUT/compare_cprofile_s4.txt
python3 -m cProfile -s cumtime ${ev#* } 2>&1 | grep -A 45 "Ordered by" > $OUT/evaluate_cprofile_s4.txt
python3 -X importtime ${ev#* } 2> /tmp/imp.txt > /dev/null; sort -t'|' -k2 -n -r /tmp/imp.txt | head -30 > $OUT/evaluate_importtime_s4.txt
head -12 $OUT/evaluate_cprofile_s4.txt
cd $root
CUDA_VISIBLE_DEVICES=0 timeout 330 python3 bench/gpu_bench.py --configs report,fast,fast-left --out $OUT/gpu_bench_h200x2_s4.json > $OUT/gpu_bench_s4.log 2>&1; echo "gpu_bench exit $?"
grep "^round\|^memory\|^|\|^GPU\|Error" $OUT/gpu_bench_s4.log | tail -30
