#!/usr/bin/env bash
# Device call 2 variant (carry .gpu-cuda), right after call 1: the throughput goals of issue 13 on
# the GPU machine, in one run that fits a short device lease (about 6-8 minutes with the defaults).
#   - 256 px and camera-size JPEG (5 MP, 12 MP) end to end at concurrency 1, 8, 32, 64 against
#     (a) raw batched session.run and (b) the minimal loop, plus sharp's own decode rate on every
#     core (bench:predict's decodeCeiling; goal: 5 MP c32 within 0.8x of it);
#   - the camera workload pinned to 4, 8 and 16 cores (taskset), to show how it scales;
#   - 1, 2 and 4 gateway processes, each with its own CUDA sessions or all in one shared
#     inference process (INFERENCE_SOCKET, `npm run inference`), at c32 (BENCH_PROCESSES=0 skips it).
# Each JSON goes to $OUT; copy them to bench/results/ with the date and the device in the name.
set -uo pipefail
source "$(dirname "$0")/provider-env.sh"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
S=${BENCH_SECONDS:-2}
node bench/predict.ts --provider cuda --algorithm patch-sample --seconds "$S" --concurrency 1,8,32,64 \
  --camera 2448x2048,4096x3000 --only throughput > "$OUT/predict-cuda-issue13.json" 2> "$OUT/predict-cuda-issue13.err"
echo "== cuda, all cores rc=$?"; cat "$OUT/predict-cuda-issue13.json"; tail -3 "$OUT/predict-cuda-issue13.err"
for cores in ${BENCH_CORES:-4 8 16}; do
  last=$((cores - 1))
  taskset -c "0-$last" node bench/predict.ts --provider cuda --algorithm patch-sample --seconds "$S" --quick \
    --camera 2448x2048 --only throughput > "$OUT/predict-cuda-taskset-$cores.json" 2> "$OUT/predict-cuda-taskset-$cores.err"
  echo "== cuda, $cores cores rc=$?"; grep -o '"decodeCeiling":{[^}]*}[^}]*}' "$OUT/predict-cuda-taskset-$cores.json"; tail -2 "$OUT/predict-cuda-taskset-$cores.err"
done
if [ "${BENCH_PROCESSES:-1}" != "0" ]; then
  node bench/predict.ts --provider cuda --algorithm patch-sample --seconds "$S" --quick --camera 2448x2048 \
    --processes 1,2,4 --inference own,shared --only processes > "$OUT/predict-cuda-processes.json" 2> "$OUT/predict-cuda-processes.err"
  echo "== cuda, processes own/shared rc=$?"; grep -o '"processes":.*' "$OUT/predict-cuda-processes.json" | head -c 3000; tail -2 "$OUT/predict-cuda-processes.err"
fi
