# Session 4: copy what bg_s4.sh has finished so far under $OUT and print the lines that matter.
cat /tmp/convert_s4.log 2>/dev/null; nvidia-smi --query-gpu=index,memory.used --format=csv
cp /tmp/a/results.json $OUT/embedded_levers_h200x2_s4.json 2>/dev/null; cp /tmp/a_s4.log $OUT/a_s4.log 2>/dev/null
cp /tmp/soups/results.json $OUT/embedded_soups_h200x2_s4.json 2>/dev/null; cp /tmp/soups_s4.log $OUT/soups_s4.log 2>/dev/null
cp /tmp/alone/results.json $OUT/embedded_alone_h200x2_s4.json 2>/dev/null; cp /tmp/alone_s4.log $OUT/alone_s4.log 2>/dev/null
ls /tmp/*.done 2>/dev/null
grep -v "^    \|it/s\]" /tmp/a_s4.log 2>/dev/null | tail -20
cat /tmp/soups_s4.log 2>/dev/null | tail -12
grep -v "^    \|it/s\]" /tmp/alone_s4.log 2>/dev/null | tail -4
