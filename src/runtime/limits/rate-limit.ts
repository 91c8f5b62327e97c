import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/**
 * Fixed-window counters (rate-limiter-flexible): in this process, or shared by every instance
 * through Redis when REDIS_URL is set. A Redis that is away or frozen falls back to this
 * process's counters (the insurance limiter) rather than refusing or letting everything through.
 */
export interface RateLimit {
  /** Counts `points` for `key`; `{ ok: false, retryAfterSeconds }` once the window's budget is spent. */
  consume(key: string, points?: number): Promise<{ ok: true; remaining: number } | { ok: false; retryAfterSeconds: number }>;
  /** Gives points back (a successful attempt that was counted in advance). */
  reward(key: string, points?: number): Promise<void>;
}

export interface RateLimits {
  /** A limiter of `points` per `durationSeconds`, its keys under `name`. */
  limiter(name: string, points: number, durationSeconds: number): RateLimit;
  /** Resolves once the shared counters answer (at once without Redis); until then, local counters count. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function createRateLimits(opts: { redisUrl: string | null; prefix: string }): RateLimits {
  // One connection for every limiter; commands fail fast (no offline queue) so a dead Redis
  // answers through the insurance limiter at once instead of stalling requests.
  const redis = opts.redisUrl
    ? new Redis(opts.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 500, connectionName: `${opts.prefix}ratelimit` })
    : null;
  redis?.on('error', () => {
    // Reconnects by itself; meanwhile the insurance limiter counts.
  });
  return {
    limiter(name, points, durationSeconds) {
      const memory = new RateLimiterMemory({ points, duration: durationSeconds, keyPrefix: name });
      const inner: RateLimiterAbstract = redis
        ? new RateLimiterRedis({
            storeClient: redis,
            points,
            duration: durationSeconds,
            keyPrefix: `${opts.prefix}rl:${name}`,
            rejectIfRedisNotReady: true,
            insuranceLimiter: memory,
          })
        : memory;
      return {
        async consume(key, n = 1) {
          try {
            const res = await inner.consume(key, n);
            return { ok: true, remaining: res.remainingPoints };
          } catch (err) {
            if (err instanceof RateLimiterRes) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
            throw err;
          }
        },
        async reward(key, n = 1) {
          await inner.reward(key, n).catch(() => undefined);
        },
      };
    },
    ready: () => (!redis || redis.status === 'ready' ? Promise.resolve() : new Promise<void>((r) => redis.once('ready', () => r()))),
    async close() {
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
