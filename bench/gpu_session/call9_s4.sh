# Session 4, call 9: with the bytecode compiled, where evaluate_baseline's ~21 s go (cProfile; import times).
set -u
source .device/gpu/bench/gpu_session/env.sh
root=$PWD; cd /tmp/runs-alone/alone__ctl-s1
ev=$(python3 -c "import sys; sys.path.insert(0, '$root/bench'); import pipeline_runs as p; print(' '.join(p.stage_argv('evaluate_baseline')))")
s=$(date +%s%N); $ev > /dev/null 2>&1; echo "evaluate_baseline $(( ($(date +%s%N) - s) / 1000000 )) ms" | tee $OUT/baseline_wall_s4.txt
python3 -m cProfile -s cumtime ${ev#* } 2>&1 | grep -A 60 "Ordered by" > $OUT/baseline_cprofile_compiled_s4.txt
python3 -X importtime ${ev#* } 2> /tmp/imp.txt > /dev/null; sort -t'|' -k2 -n -r /tmp/imp.txt | head -40 > $OUT/baseline_importtime_compiled_s4.txt
head -25 $OUT/baseline_cprofile_compiled_s4.txt; head -12 $OUT/baseline_importtime_compiled_s4.txt
