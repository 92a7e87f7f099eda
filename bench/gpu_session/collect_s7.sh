# Session 7: what bg_s7.sh has finished, under $OUT, and the lines that matter. Calls 4 on wait first for the next
# marker: t=$(date +%s); while [ ! -f /tmp/X7.done ] && [ $(( $(date +%s) - t )) -lt 560 ]; do sleep 3; done
for p in dora seeds; do
  cp /tmp/$p"7"/results.json $OUT/embedded_${p}_h200x2_s7.json 2>/dev/null
  grep -v "^    \|it/s\]" /tmp/$p"7".log > $OUT/embedded_${p}_h200x2_s7.log 2>/dev/null
done
cp /tmp/phi7/* $OUT/ 2>/dev/null
cp /tmp/s7.log $OUT/s7.log; cp bench/gpu_session/choice_s7.json $OUT/ 2>/dev/null; tail -3 /tmp/bg_s7.out 2>/dev/null
ls /tmp/*.done; cat /tmp/s7.log
for p in dora seeds; do grep "^| " /tmp/$p"7".log 2>/dev/null | grep -v "^| run\|^|---"; done
grep "^round\|^| \|^memory\|Error\|error" /tmp/phi7/gpu_bench_h200x2_s7_rounds.txt 2>/dev/null | tail -40
