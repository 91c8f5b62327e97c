# syntax=docker/dockerfile:1.7
#
# Two images from one file (README "Docker"):
#   docker build -t spectro-gateway .                                # CPU (the last stage, `cpu`)
#   docker build --target cuda -t spectro-gateway:cuda .             # NVIDIA GPU (CUDA 13 + cuDNN 9)
#
# Both run `node src/main.ts` directly (Node 24 strips the types; no npm, no shell in between), so
# the gateway itself receives `docker stop`'s SIGTERM, drains in-flight requests and exits within
# DRAIN_TIMEOUT_MS. The gateway handles SIGTERM/SIGINT itself and starts no child processes, so it
# needs no init as PID 1 (`docker run --init` does no harm either).
ARG NODE_IMAGE=node:24-bookworm-slim
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04

# ---- production node_modules (better-sqlite3 compiles when no prebuilt binary matches)
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
# `prepare` (scripts/build-dashboard.ts) runs with npm ci: without dev dependencies it has no Vite
# and leaves the dashboard to the `dashboard` stage.
COPY scripts/build-dashboard.ts ./scripts/
# onnxruntime-node's install script would fetch a CUDA provider from outside the npm registry;
# the cuda stage adds the provider itself.
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN npm ci --omit=dev --no-audit --no-fund

# ---- the dashboard (dashboard/ -> dist/dashboard: static files and their trusted documents), built
# with the dev dependencies (Vite, Preact, gql.tada) that the image itself does without
FROM ${NODE_IMAGE} AS dashboard
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
ENV ONNXRUNTIME_NODE_INSTALL=skip
# No install scripts: Vite's native parts come as prebuilt platform packages; `prepare` runs below.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY schema.graphql ./
COPY scripts/build-dashboard.ts ./scripts/
COPY src/http/document-hash.ts ./src/http/
COPY dashboard ./dashboard
RUN npm run build:dashboard

# ---- the onnxruntime 1.29.0 CUDA 13 provider, from the npm registry (as scripts/gpu/ uses it)
FROM ${NODE_IMAGE} AS cuda-provider
WORKDIR /tmp/ort
RUN npm pack --silent com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9 \
  && tar xzf ./*.tgz \
  && mkdir /out \
  && cp package/Plugins/Linux/x64/libonnxruntime_providers_cuda.so package/Plugins/Linux/x64/libonnxruntime_providers_shared.so /out/

# ---- CUDA image: Node 24 on NVIDIA's CUDA runtime with cuDNN; run with `--gpus all`
FROM ${CUDA_IMAGE} AS cuda
COPY --from=deps /usr/local/bin/node /usr/local/bin/node
ENV NODE_ENV=production PORT=4000 HOST=0.0.0.0 DATA_DIR=/data EXECUTION_PROVIDER=cuda
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=cuda-provider /out/ ./node_modules/onnxruntime-node/bin/napi-v6/linux/x64/
COPY package.json schema.graphql ./
COPY src ./src
COPY --from=dashboard /app/dist/dashboard ./dist/dashboard
RUN useradd --system --uid 1001 --home-dir /app spectro && mkdir -p /data && chown spectro /data
USER spectro
VOLUME ["/data"]
EXPOSE 4000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "src/main.ts"]

# ---- CPU image (the default target: last in the file)
FROM ${NODE_IMAGE} AS cpu
ENV NODE_ENV=production PORT=4000 HOST=0.0.0.0 DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json schema.graphql ./
COPY src ./src
COPY --from=dashboard /app/dist/dashboard ./dist/dashboard
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 4000
STOPSIGNAL SIGTERM
# Liveness only: /readiness (store, pub/sub, inference worker, disk) is for load balancers and
# orchestrators, which take an instance out of rotation instead of restarting it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "src/main.ts"]
