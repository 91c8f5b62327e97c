import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

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
 */
export function openSubscriptions(): OpenSubscriptions {
  const open = new Set<AsyncIterator<ExecutionResult>>();
  const plugin: Plugin = {
    onSubscribe: () => ({
      onSubscribeResult({ result, setResult }) {
        if (!isAsyncIterable(result)) return;
        const source = result[Symbol.asyncIterator]();
        open.add(source);
        const done = () => open.delete(source);
        // Not an async generator: a generator parked in `await next()` cannot be returned.
        const it: AsyncIterableIterator<ExecutionResult> = {
          next: () =>
            source.next().then(
              (r) => (r.done && done(), r),
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
