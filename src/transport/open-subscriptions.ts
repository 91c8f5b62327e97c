import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { AppError, ErrorCode } from '../errors.ts';
import type { Principal } from '../runtime/auth/auth.ts';

const MAX_TIMER_MS = 2 ** 31 - 1;

export interface OpenSubscriptions {
  plugin: Plugin;
  /** Subscription streams running now, over any transport. */
  readonly size: number;
  /** Completes every running stream: SSE responses end with `complete`, graphql-ws sends it. */
  endAll(): Promise<void>;
}

/**
 * Keeps the running subscription streams, so that `stop()` can complete them. An SSE response
 * is an in-flight HTTP request until its stream ends, so without this stop() would wait the
 * whole drain timeout for it and then cut the connection.
 *
 * It also ends an SSE stream when its token expires: one UNAUTHENTICATED error, then complete
 * (the client subscribes again with a fresh token). graphql-ws operations are left to the socket,
 * which closes 4403 at expiry unless a ping renewed the token (transport/graphql-ws.ts).
 */
export function openSubscriptions(): OpenSubscriptions {
  const open = new Set<AsyncIterator<ExecutionResult>>();
  const plugin: Plugin = {
    onSubscribe: () => ({
      onSubscribeResult({ args, result, setResult }) {
        if (!isAsyncIterable(result)) return;
        const source = result[Symbol.asyncIterator]();
        open.add(source);
        const ctx = args.contextValue as { principal?: Principal | null; connectionParams?: unknown };
        let expiry: NodeJS.Timeout | null = null;
        let expired: 'no' | 'yes' | 'told' = 'no';
        if (ctx.principal && ctx.connectionParams === undefined) {
          const ms = Math.min(ctx.principal.expiresAt * 1000 - Date.now(), MAX_TIMER_MS);
          expiry = setTimeout(
            () => {
              expired = 'yes';
              void source.return?.();
            },
            Math.max(ms, 0),
          );
          expiry.unref();
        }
        const done = () => {
          if (expiry) clearTimeout(expiry);
          open.delete(source);
        };
        // Not an async generator: a generator parked in `await next()` cannot be returned.
        const it: AsyncIterableIterator<ExecutionResult> = {
          next: () =>
            source.next().then(
              (r): IteratorResult<ExecutionResult> => {
                if (!r.done) return r;
                done();
                if (expired !== 'yes') return r;
                expired = 'told';
                return { done: false, value: { errors: [new AppError(ErrorCode.UNAUTHENTICATED, 'the token has expired; subscribe again with a fresh one')] } };
              },
              (err: unknown) => {
                done();
                throw err;
              },
            ),
          return: async () => {
            done();
            return (await source.return?.()) ?? { value: undefined, done: true };
          },
          throw: async (err?: unknown) => {
            done();
            if (source.throw) return source.throw(err);
            throw err;
          },
          [Symbol.asyncIterator]: () => it,
        };
        setResult(it);
      },
    }),
  };
  return {
    plugin,
    get size() {
      return open.size;
    },
    async endAll() {
      const all = [...open];
      open.clear();
      await Promise.all(all.map((s) => s.return?.()));
    },
  };
}
