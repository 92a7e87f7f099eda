# Session 3, call 2 (bundle b2: bitsandbytes): wait for call 1's Phi-2-shapes build, then 1 vs 2 GPUs on Phi-2 shapes
# through the train stage's `train.gpus` path, three interleaved rounds (1, 2, 1, 2, 1, 2), 12 timed steps after 4.
# As run, the bench failed in every launch: params_phi2_ddp.yaml predated train.seed (and the two regularisers), which
# the train stage requires (the error in ddp_phi2_shapes_first_try_h200x2_s3.txt); they were added and call 5 reran it.
set -u
bash .gpu/b2/install.sh > /dev/null || exit 1
source .device/gpu/bench/gpu_session/env.sh
t=$(date +%s); while [ ! -f /tmp/phi2build.rc ] && [ $(( $(date +%s) - t )) -lt 150 ]; do sleep 2; done
echo "phi-2-shapes build: exit $(cat /tmp/phi2build.rc 2>/dev/null || echo none), waited $(( $(date +%s) - t )) s"; tail -3 /tmp/phi2build.log
timeout 400 python3 bench/ddp_scaling.py --params bench/gpu_session/params_phi2_ddp.yaml --gpus 2 --steps 16 --warmup 4 --repeats 3 --split /tmp/phi2split --out $OUT/ddp_phi2_shapes_h200x2_s3.json > $OUT/ddp_s3.log 2>&1; echo "ddp exit $?"
grep "^round\|^speedup\|Error" $OUT/ddp_s3.log | tail -12
