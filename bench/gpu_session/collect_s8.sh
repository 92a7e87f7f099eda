# Session 8: wait up to $1 seconds for the background bench (bg_s8.sh), then bring back what it has written.
set -u
t=$(date +%s); while [ ! -f /tmp/s8/${2:-bench1}.rc ] && [ $(( $(date +%s) - t )) -lt $1 ]; do sleep 5; done
cp /tmp/s8/* $OUT/ 2>/dev/null; ls /tmp/s8
grep "^round\|^memory\|^| \|Error\|error" /tmp/s8/gpu_bench_h200_s8*_rounds.txt | cut -c1-230 | tail -60
