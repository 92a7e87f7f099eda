# Session 8, second bench process (after bg_s8.sh's), started by call4_s8.sh in a session of its own: fast at larger
# batches, no checkpointing at 76 pairs (between bg_s8.sh's 72 and 80, which peaked at 22.4 and 24.3 GB), low-mem at
# 12-16 pairs a step.
set -u
mkdir -p /tmp/s8
timeout 900 python3 bench/gpu_bench.py --rounds 5 \
  --configs report,fast,fast-384,fast-512,fast-nockpt-76,low-mem-12-fast,low-mem-14-fast,low-mem-16-fast \
  --out /tmp/s8/gpu_bench_h200_s8b.json > /tmp/s8/gpu_bench_h200_s8b_rounds.txt 2>&1
echo $? > /tmp/s8/bench2.rc
