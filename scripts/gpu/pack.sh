#!/usr/bin/env bash
# Here (no GPU): prepares what the two device calls carry. See scripts/gpu/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f .gpu-cuda/libonnxruntime_providers_cuda.so.xz ] || bash ../shared/gpu/prepare-cuda-provider.sh .gpu-cuda
if [ ! -f .gpu-node/node.xz ]; then
  mkdir -p .gpu-node && strip -o .gpu-node/node "$(command -v node)" && xz -T0 -9 .gpu-node/node
fi
mkdir -p .gpu-bundle
tar -cf - \
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/darwin' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/win32' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/linux/arm64' \
  --exclude='node_modules/better-sqlite3/deps' --exclude='node_modules/better-sqlite3/src' \
  --exclude='node_modules/better-sqlite3/build/Release/obj*' \
  --exclude='node_modules/typescript' --exclude='node_modules/@typescript' \
  --exclude='node_modules/vite' --exclude='node_modules/vitest' --exclude='node_modules/@vitest' \
  --exclude='node_modules/@rolldown' --exclude='node_modules/lightningcss*' \
  node_modules | xz -T0 -6 > .gpu-bundle/nm.tar.xz
du -sh .gpu-node .gpu-bundle .gpu-cuda
