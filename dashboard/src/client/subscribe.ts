import { codeOf, GraphQLFailure, networkFailure, type GraphQLErrorShape } from './failure.ts';
import { renew } from './api.ts';
import { session } from './session.ts';
import { sseEvents } from './sse.ts';
import { ENDPOINT, headers, operationBody, readResult, type Doc } from './transport.ts';

export type FeedState = 'off' | 'connecting' | 'live' | 'retrying';

interface Handlers<R> {
  onData: (data: R) => void;
  onState?: (state: FeedState) => void;
  /** Connected again after a break: what was published meanwhile is in the store. */
  onReconnect?: () => void;
  /** An error retrying cannot fix (bad input, not found, refused): the feed has stopped. */
  onStop?: (err: GraphQLFailure) => void;
  /** The third failure in a row (it keeps retrying). */
  onTrouble?: (err: GraphQLFailure) => void;
}

const FINAL = new Set(['BAD_USER_INPUT', 'NOT_FOUND', 'FORBIDDEN', 'GRAPHQL_VALIDATION_FAILED']);

/** A subscription over SSE that reconnects with backoff. Returns a function that stops it. */
export function subscribe<R, V>(doc: Doc<R, V>, variables: V, h: Handlers<R>): () => void {
  const ctrl = new AbortController();
  const onState = h.onState ?? (() => undefined);
  let stopped = false;
  void (async () => {
    let failures = 0;
    let connectedBefore = false;
    while (!stopped) {
      onState('connecting');
      const usedToken = session.value?.token;
      try {
        const res = await fetch(ENDPOINT, {
          method: 'POST',
          headers: headers({ accept: 'text/event-stream', 'content-type': 'application/json' }),
          body: JSON.stringify(operationBody(doc, variables)),
          signal: ctrl.signal,
          cache: 'no-store',
        });
        if (!(res.headers.get('content-type') ?? '').includes('text/event-stream') || !res.body) {
          await readResult(res);
          throw new GraphQLFailure(
            [{ message: `the gateway answered HTTP ${res.status} without an event stream`, extensions: { code: `HTTP_${res.status}` } }],
            res.status,
          );
        }
        onState('live');
        if (connectedBefore) h.onReconnect?.();
        connectedBefore = true;
        for await (const ev of sseEvents(res.body)) {
          if (ev.event === 'complete') break;
          if (!ev.data) continue;
          const payload = JSON.parse(ev.data) as { data?: R; errors?: GraphQLErrorShape[] };
          if (payload.errors?.length) throw new GraphQLFailure(payload.errors);
          failures = 0;
          if (payload.data) h.onData(payload.data);
        }
      } catch (err) {
        if (stopped || (err as Error).name === 'AbortError') return;
        const code = codeOf(err);
        if (code === 'UNAUTHENTICATED') {
          // The stream ends when its token expires: continue on a fresh one (renewed already, or now).
          const s = session.value;
          if (s && s.token !== usedToken && s.expiresAt > Date.now() + 2_000) continue;
          if (await renew()) continue;
          return;
        }
        if (code && FINAL.has(code)) {
          onState('off');
          h.onStop?.(err as GraphQLFailure);
          return;
        }
        failures++;
        const reason = err instanceof GraphQLFailure ? err : networkFailure(`cannot reach the gateway (${(err as Error).message})`);
        if (failures === 3) h.onTrouble?.(reason);
      }
      if (stopped) return;
      onState('retrying');
      await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** failures)));
    }
  })();
  return () => {
    stopped = true;
    ctrl.abort();
  };
}
