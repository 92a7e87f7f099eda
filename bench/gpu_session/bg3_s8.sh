# Session 8, third bench process (after bg2_s8.sh's), started by call5_s8.sh in a session of its own: the rows that
# carry the targets, again, in a process of their own.
set -u
mkdir -p /tmp/s8
timeout 500 python3 bench/gpu_bench.py --rounds 5 --configs report,fast,fast-nockpt-76,low-mem-14-fast \
  --eval-variants fast --out /tmp/s8/gpu_bench_h200_s8c.json > /tmp/s8/gpu_bench_h200_s8c_rounds.txt 2>&1
echo $? > /tmp/s8/bench3.rc
