# Sourced by the device-call scripts: puts the CUDA provider beside onnxruntime-node's binding
# (unpacked by call1-unpack.sh into /tmp/w), finds the CUDA 13 and cuDNN 9 libraries, and links
# node_modules into the checkout.
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
