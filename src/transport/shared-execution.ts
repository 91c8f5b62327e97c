import { createSourceEventStream, type DocumentNode, execute, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Subscription fan-out without executing the same selection once per subscriber.
 *
 * The pub/sub hands one event object to every local subscriber of a channel. Subscribers whose
 * operation, variables, client and public URL are identical would compute identical results
 * from it, so the first one executes the selection and the others reuse that result (a
 * WeakMap on the event object: it lives as long as some subscriber still holds the event).
 * Everything per subscriber stays per subscriber: the subscribe resolver (auth, NOT_FOUND,
 * filters, snapshot), the buffer and its overflow policy, completion, and every plugin hook
 * Yoga runs on the results (masking, error codes).
 */
export function useSharedSubscriptionExecution(): Plugin {
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 1;
  const results = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();

  const keyOf = (args: ExecutionArgs): string => {
    let doc = documentIds.get(args.document);
    if (!doc) documentIds.set(args.document, (doc = nextDocumentId++));
    const ctx = (args.contextValue ?? {}) as { principal?: { clientId?: string; scope?: string } | null; baseUrl?: string };
    return JSON.stringify([
      doc,
      args.operationName ?? null,
      args.variableValues ?? null,
      ctx.principal?.clientId ?? null,
      ctx.principal?.scope ?? null,
      ctx.baseUrl ?? null,
    ]);
  };

  const run = (event: unknown, key: string, args: ExecutionArgs): Promise<ExecutionResult> => {
    const exec = () => Promise.resolve(execute({ ...args, rootValue: event }));
    if (typeof event !== 'object' || event === null) return exec();
    let byKey = results.get(event);
    if (!byKey) results.set(event, (byKey = new Map()));
    let result = byKey.get(key);
    if (!result) byKey.set(key, (result = exec()));
    return result;
  };

  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args) => {
        const source = await createSourceEventStream(args);
        if (!(Symbol.asyncIterator in source)) return source;
        const key = keyOf(args);
        return mapEvents(source[Symbol.asyncIterator](), (event) => run(event, key, args));
      });
    },
  };
}

/**
 * Not an async generator: a generator parked in `await next()` cannot be returned before the
 * next event, which would hold an idle subscription's channel after the client left.
 */
function mapEvents<T, R>(source: AsyncIterator<T>, map: (value: T) => Promise<R>): AsyncIterableIterator<R> {
  const it: AsyncIterableIterator<R> = {
    async next() {
      const r = await source.next();
      if (r.done) return { value: undefined, done: true };
      return { value: await map(r.value), done: false };
    },
    async return() {
      await source.return?.();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}
