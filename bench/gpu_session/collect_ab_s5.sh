# Session 5: what bg_ab_s5.sh has finished, under $OUT, and the lines that matter.
mkdir -p $OUT/ab
for leg in A1 B1 A2 B2; do cp /tmp/ab/$leg/results.json $OUT/ab/embedded_alone_$leg.json 2>/dev/null; done
cp /tmp/ab_s5.log $OUT/ab/ab_s5.log; cp /tmp/seeds5/results.json $OUT/embedded_seeds_nocudnn_h200x2_s5.json 2>/dev/null
cp /tmp/seeds5.log $OUT/embedded_seeds_nocudnn_h200x2_s5.log 2>/dev/null; cat /tmp/bg_ab_s5.out 2>/dev/null | tail -3
ls /tmp/*.done; cat /tmp/ab_s5.log
for leg in A1 B1 A2 B2; do grep "^| alone" /tmp/ab_$leg.log 2>/dev/null; done
grep "^| seeds" /tmp/seeds5.log 2>/dev/null
