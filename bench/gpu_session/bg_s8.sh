# Session 8 (issue 25.2): started by call3_s8.sh in a session of its own, run from .device/gpu with env.sh sourced.
# One bench process, every row interleaved: the report row and fast with this session's batches and with sessions
# 1-7's, fast with the LayerNorm output cast by each consumer (as before), fast without checkpointing at 64-80
# pairs, low-mem; fast's scoring merged as well. Then, if bench/gpu_session/second_s8.args exists, a second process.
set -u
mkdir -p /tmp/s8
timeout 900 python3 bench/gpu_bench.py --rounds 5 \
  --configs report,report-round,fast,fast-round,fast-normcast-off,fast-nockpt-64,fast-nockpt-72,fast-nockpt-80,low-mem-12-fast \
  --eval-variants fast --out /tmp/s8/gpu_bench_h200_s8.json > /tmp/s8/gpu_bench_h200_s8_rounds.txt 2>&1
echo $? > /tmp/s8/bench1.rc
