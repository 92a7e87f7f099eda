# Session 3, call 5, as run: call 2's 1 vs 2 GPUs on Phi-2 shapes again, params_phi2_ddp.yaml now with train.seed,
# label_smoothing 0 and neftune_alpha 0 (the machine still warm: bitsandbytes, the Phi-2-shapes model and split there).
set -u
source .device/gpu/bench/gpu_session/env.sh
timeout 330 python3 bench/ddp_scaling.py --params bench/gpu_session/params_phi2_ddp.yaml --gpus 2 --steps 16 --warmup 4 --repeats 3 --split /tmp/phi2split --out $OUT/ddp_phi2_shapes_h200x2_s3.json > $OUT/ddp_s3.log 2>&1; echo "ddp exit $?"
grep "^round\|^speedup\|Error" $OUT/ddp_s3.log | tail -12
