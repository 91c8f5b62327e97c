#!/usr/bin/env bash
# Device call 1 (carry .gpu-node .gpu-bundle): unpack node and node_modules outside the checkout.
set -euo pipefail
W=/tmp/w; mkdir -p $W/bin
xz -dc .gpu-node/node.xz > $W/bin/node && chmod +x $W/bin/node
tar -xJf .gpu-bundle/nm.tar.xz -C $W
$W/bin/node --version; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
