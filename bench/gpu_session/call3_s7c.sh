# Session 7, third machine (one H200), call 3 (after call1_s4.sh and call2_s4.sh): bundle b3, then one short bench
# process whose only purpose is the fast row's profile grouped by input shape (which tensors the step's copies and
# elementwise ops touch: docs/gpu.md, "What the next session should run"). Its one timed round is not a result.
set -u
bash .gpu/b3/install.sh > /dev/null || exit 1
source .device/gpu/bench/gpu_session/env.sh
t=$(date +%s); while [ ! -f /tmp/phi2build.rc ] && [ $(( $(date +%s) - t )) -lt 150 ]; do sleep 2; done
timeout 200 python3 bench/gpu_bench.py --configs report,fast --rounds 1 --steps 2 --eval-examples 512 --profile fast \
  --profile-shapes --out $OUT/gpu_bench_shapes_h200_s7.json > $OUT/gpu_bench_shapes_h200_s7_rounds.txt 2>&1
echo rc=$?; grep "^round\|^| " $OUT/gpu_bench_shapes_h200_s7_rounds.txt | cut -c1-160
