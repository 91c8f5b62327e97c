import type { Config } from '../../config.ts';
import { createUpstreamClient, type UpstreamClientOptions } from './client.ts';
import type { UpstreamClient, Upstreams } from './upstream.ts';

export type { UpstreamClient, UpstreamHealth, UpstreamRequest, UpstreamResponse, Upstreams } from './upstream.ts';
export { remoteApi } from './remote.ts';
export type * from './remote.ts';

type UpstreamConfig = Pick<Config, 'upstreams' | 'upstreamCredentials' | 'upstreamTimeoutMs'>;

/**
 * One pooled client per configured upstream (UPSTREAMS=name=url,...). Nothing connects until the
 * first call, so an unreachable upstream never delays start-up.
 */
export function createUpstreams(config: UpstreamConfig, extra: Partial<Omit<UpstreamClientOptions, 'name' | 'url' | 'credentials'>> = {}): Upstreams {
  const clients = new Map<string, UpstreamClient>();
  for (const [name, url] of Object.entries(config.upstreams)) {
    if (!name || !url) continue;
    clients.set(
      name,
      createUpstreamClient({
        timeoutMs: config.upstreamTimeoutMs,
        ...extra,
        name,
        url,
        credentials: config.upstreamCredentials?.[name] ?? null,
      }),
    );
  }
  return {
    list: () => [...clients.values()],
    get: (name) => clients.get(name) ?? null,
    close: async () => {
      await Promise.allSettled([...clients.values()].map((c) => c.close()));
    },
  };
}
