# Session 5: copy what bg_s5.sh has finished under $OUT and print the lines that matter (calls 4-5: wait for
# /tmp/soups5.done first: `t=$(date +%s); while [ ! -f /tmp/soups5.done ] && [ $(( $(date +%s) - t )) -lt 570 ]; do sleep 5; done`).
cat /tmp/convert_s5.log 2>/dev/null | tail -1
cp /tmp/blocks/results.json $OUT/embedded_blocks_h200x2_s5.json 2>/dev/null; cp /tmp/blocks_s5.log $OUT/embedded_blocks_h200x2_s5.log 2>/dev/null
cp /tmp/soups5/results.json $OUT/embedded_block_soups_h200x2_s5.json 2>/dev/null; cp /tmp/soups_s5.log $OUT/embedded_block_soups_h200x2_s5.log 2>/dev/null
ls /tmp/*.done 2>/dev/null
grep -v "^    \|it/s\]" /tmp/blocks_s5.log 2>/dev/null | tail -18
tail -14 /tmp/soups_s5.log 2>/dev/null
