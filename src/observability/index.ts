import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config.ts';
import type { PubSub } from '../runtime/pubsub/pubsub.ts';
import { createMetrics, type Metrics } from '../runtime/telemetry/metrics.ts';
import { useTracing } from './graphql-tracing.ts';
import { instrumentPubSub } from './instrument-pubsub.ts';
import { instrumentStore } from './instrument-store.ts';
import { metricsPlugins, METRICS_PATH, metricsResponse } from './metrics-plugins.ts';

export type { Metrics };

/** Metrics, traces and the wrappers that record them, for one server (see README "Operations"). */
export interface Observability {
  metrics: Metrics;
  /** Yoga plugins, to go first: HTTP span and metrics see the whole request. */
  plugins: Plugin[];
  /** The store, timed and traced from outside (any shape, see instrument-store.ts). */
  store<S extends object>(store: S, system: string): S;
  pubsub(pubsub: PubSub, transport: 'redis' | 'memory'): PubSub;
  /** Starts the metrics port when METRICS_PORT is set; answers its port, or null. */
  listen(host: string): Promise<number | null>;
  close(): Promise<void>;
}

/**
 * `tracing`: add the GraphQL/HTTP spans (the process registers the provider, see tracing.ts);
 * default: when an OTLP endpoint is configured.
 */
export function createObservability(config: Pick<Config, 'ops'>, opts: { tracing?: boolean } = {}): Observability {
  const { ops } = config;
  const metrics = createMetrics();
  const tracing = opts.tracing ?? ops.otlpEndpoint !== null;
  let metricsServer: http.Server | null = null;
  return {
    metrics,
    plugins: [...(tracing ? [useTracing()] : []), ...metricsPlugins(metrics, { token: ops.metricsToken, serve: ops.metricsPort === null })],
    store: (store, system) => instrumentStore(store, metrics, { system }),
    pubsub: (pubsub, transport) => instrumentPubSub(pubsub, metrics, { transport, pingTimeoutMs: ops.readinessTimeoutMs }),
    async listen(host) {
      if (ops.metricsPort === null) return null;
      const server = http.createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://metrics');
        if (url.pathname !== METRICS_PATH) {
          res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`only ${METRICS_PATH} is served on this port\n`);
          return;
        }
        const headers = new Headers();
        if (req.headers.authorization) headers.set('authorization', req.headers.authorization);
        metricsResponse(new Request(url, { method: req.method ?? 'GET', headers }), metrics, ops.metricsToken)
          .then(async (r) => {
            res.writeHead(r.status, Object.fromEntries(r.headers));
            res.end(Buffer.from(await r.arrayBuffer()));
          })
          .catch(() => res.writeHead(500).end());
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(ops.metricsPort!, host, () => resolve());
      });
      metricsServer = server;
      return (server.address() as AddressInfo).port;
    },
    async close() {
      const server = metricsServer;
      metricsServer = null;
      if (!server) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
