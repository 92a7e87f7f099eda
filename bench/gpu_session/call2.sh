# Call 2 (bundle b2: bitsandbytes): the CUDA test, the Phi-2-shapes benchmark, 1 vs 2 GPUs on Phi-2 shapes.
set -u
bash .gpu/b2/install.sh || exit 1
source .device/gpu/bench/gpu_session/env.sh
python3 -m pytest -q -s -p no:cacheprovider --noconftest tests/model/test_gpu.py 2>&1 | tail -4 | tee $OUT/test_gpu.txt
CUDA_VISIBLE_DEVICES=0 timeout 330 python3 bench/gpu_bench.py --out $OUT/gpu_bench_h200.json > $OUT/gpu_bench.log 2>&1; echo "gpu_bench exit $?"
grep -v "it/s\]" $OUT/gpu_bench.log | grep "^round\|^|\|Error\|error" | tail -25
P=bench/gpu_session/params_phi2_ddp.yaml
python3 stages/split.py --params $P --raw data/raw/snli --out-dir /tmp/phi2split --metrics /tmp/d.json --run-log /tmp/r.json > /dev/null
timeout 200 python3 bench/ddp_scaling.py --params $P --gpus 2 --steps 25 --warmup 4 --split /tmp/phi2split --out $OUT/ddp_phi2_shapes.json > $OUT/ddp.log 2>&1; echo "ddp exit $?"
grep -v "it/s\]" $OUT/ddp.log | grep "GPU(s)\|speedup\|Error" | tail -6
