#!/usr/bin/env bash
# Device call 2 (carry .gpu-cuda), right after call 1: add the CUDA provider and run the checks.
set -uo pipefail
source "$(dirname "$0")/provider-env.sh"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
S=${BENCH_SECONDS:-3}
for algo in ${BENCH_ALGOS:-patch-sample pattern-matching}; do
  node bench/predict.ts --provider cuda --algorithm "$algo" --seconds "$S" > "$OUT/predict-cuda-$algo.json" 2> "$OUT/predict-cuda-$algo.err"
  echo "== cuda $algo rc=$?"; cat "$OUT/predict-cuda-$algo.json"; tail -5 "$OUT/predict-cuda-$algo.err"
done
[ "${SKIP_CPU:-0}" = 1 ] && exit 0
node bench/predict.ts --provider cpu --algorithm patch-sample --seconds "$S" > "$OUT/predict-cpu16-patch-sample.json" 2> "$OUT/predict-cpu16.err"
echo "== cpu (16 cores) patch-sample rc=$?"; cat "$OUT/predict-cpu16-patch-sample.json"; tail -3 "$OUT/predict-cpu16.err"
