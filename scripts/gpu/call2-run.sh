#!/usr/bin/env bash
# Device call 2 (carry .gpu-cuda), right after call 1: add the CUDA provider and run the checks.
set -uo pipefail
W=/tmp/w
ORT=$W/node_modules/onnxruntime-node/bin/napi-v6/linux/x64
xz -T0 -dc .gpu-cuda/libonnxruntime_providers_cuda.so.xz > $ORT/libonnxruntime_providers_cuda.so
cp .gpu-cuda/libonnxruntime_providers_shared.so $ORT/
NV=$(dirname "$(find / -name 'libcublasLt.so.13*' 2>/dev/null | head -1)")
CUDNN=$(dirname "$(find / -name 'libcudnn.so.9*' 2>/dev/null | head -1)")
export LD_LIBRARY_PATH=$NV:$CUDNN:${LD_LIBRARY_PATH:-}
export PATH=$W/bin:$PATH
rm -rf node_modules && ln -s $W/node_modules node_modules
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
S=${BENCH_SECONDS:-3}
for algo in ${BENCH_ALGOS:-patch-sample pattern-matching}; do
  node --import tsx bench/predict.ts --provider cuda --algorithm "$algo" --seconds "$S" > "$OUT/predict-cuda-$algo.json" 2> "$OUT/predict-cuda-$algo.err"
  echo "== cuda $algo rc=$?"; cat "$OUT/predict-cuda-$algo.json"; tail -5 "$OUT/predict-cuda-$algo.err"
done
[ "${SKIP_CPU:-0}" = 1 ] && exit 0
node --import tsx bench/predict.ts --provider cpu --algorithm patch-sample --seconds "$S" > "$OUT/predict-cpu16-patch-sample.json" 2> "$OUT/predict-cpu16.err"
echo "== cpu (16 cores) patch-sample rc=$?"; cat "$OUT/predict-cpu16-patch-sample.json"; tail -3 "$OUT/predict-cpu16.err"
