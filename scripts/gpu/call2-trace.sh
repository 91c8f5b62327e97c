#!/usr/bin/env bash
# Device call 2 variant: where a batch's time goes on CUDA (SPECTRO_TRACE_BATCHES=1), c8 on/off.
set -uo pipefail
source "$(dirname "$0")/provider-env.sh"
SPECTRO_TRACE_BATCHES=1 node bench/predict.ts --provider cuda --algorithm patch-sample --seconds 2 --concurrency 8,32 --batching on,off > "$OUT/trace.json" 2> "$OUT/trace.err"
echo "rc=$?"; cat "$OUT/trace.json" | grep -E '"c|a_|b_'
grep '^batch' "$OUT/trace.err" | awk '{split($3,a,"=");split($4,b,"="); n[$2]++; r[$2]+=a[2]; t[$2]+=b[2]} END {for (k in n) printf "%s count=%d meanRun=%.2fms meanRoundtrip=%.2fms\n", k, n[k], r[k]/n[k], t[k]/n[k]}'
grep -v '^batch' "$OUT/trace.err" | tail -5
