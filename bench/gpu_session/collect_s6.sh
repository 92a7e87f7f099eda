# Session 6: what bg_s6.sh has finished, under $OUT, and the lines that matter. Calls 4 on wait first for the next
# marker: t=$(date +%s); while [ ! -f /tmp/X6.done ] && [ $(( $(date +%s) - t )) -lt 560 ]; do sleep 3; done
for p in batch seeds alone; do
  cp /tmp/$p"6"/results.json $OUT/embedded_${p}_h200x2_s6.json 2>/dev/null
  grep -v "^    \|it/s\]" /tmp/$p"6".log > $OUT/embedded_${p}_h200x2_s6.log 2>/dev/null
done
cp /tmp/s6.log $OUT/s6.log; cp bench/gpu_session/choice_s6.json $OUT/ 2>/dev/null; cat /tmp/bg_s6.out 2>/dev/null | tail -3
ls /tmp/*.done; cat /tmp/s6.log
for p in batch seeds alone; do grep "^| " /tmp/$p"6".log 2>/dev/null | grep -v "^| run\|^|---"; done
