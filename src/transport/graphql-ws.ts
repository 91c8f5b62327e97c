import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { type DocumentNode, type ExecutionArgs, GraphQLError } from 'graphql';
import { CloseCode, type Context as WsContext } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Services } from '../context.ts';
import { requestErrors, withContractCodes } from '../http/errors.ts';
import type { Principal } from '../runtime/auth/auth.ts';
import { resolveWsQuery, type TrustedDocuments } from '../http/trusted-documents.ts';

export interface GraphqlWsOptions {
  httpServer: HttpServer;
  // biome-ignore lint/suspicious/noExplicitAny: any Yoga server, whatever its contexts
  yoga: YogaServerInstance<any, any>;
  path?: string;
  services: Pick<Services, 'auth' | 'log'>;
  /** Server ping interval; a socket that has not answered the previous ping is terminated. */
  keepAliveMs?: number;
  /** How long a socket may stay open without `connection_init` (then 4408). */
  connectionInitWaitTimeoutMs?: number;
  /** Bytes queued on one socket beyond which it counts as a slow consumer and is closed (1013). */
  maxBufferedBytes?: number;
  /** Operations one socket may run at once. */
  maxSubscriptionsPerSocket?: number;
  /** Told each time a socket is closed as a slow consumer (metrics). */
  onSlowConsumer?: () => void;
  /** Open sockets per source address; more are refused at the upgrade (429). */
  maxConnectionsPerSource?: number;
  /** Authenticated sockets per client; more are closed at `connection_init` (4429). */
  maxConnectionsPerClient?: number;
  /** Pings (token refreshes) one socket may send per minute; past it the socket is closed (4429). */
  maxPingsPerMinute?: number;
  /** Subscribe messages one socket may send per minute, failing ones included; past it: closed (4429). */
  maxSubscribesPerMinute?: number;
  /** Trusted documents (TRUSTED_DOCUMENTS): operations by hash; `enforce` is checked at validation. */
  trusted?: TrustedDocuments | null;
  /** How often open sockets' tokens are checked again (a revoked client's sockets close, 4403). */
  recheckMs?: number;
}

export interface GraphqlWsTransport {
  /** Open sockets (for tests and metrics). */
  readonly clients: number;
  /** Completes every running operation (the client gets `complete`), then closes sockets (1001). */
  close(): Promise<void>;
}

/** Per-socket auth state: the token in force, replaceable by a `ping` with a fresh one. */
interface SocketAuth {
  authorization: string;
  principal: Principal;
  expiry: NodeJS.Timeout | null;
}

type Extra = {
  socket: WebSocket;
  request: IncomingMessage;
  auth?: SocketAuth;
  /** This socket's budgets (created on first use). */
  budget?: { ping: () => boolean; subscribe: () => boolean };
};
type Ctx = WsContext<Record<string, unknown> | undefined, Extra>;

/** Close code for a consumer that cannot keep up: retryable ("try again later") in every client. */
export const SLOW_CONSUMER = 1013;
/** Close code for a socket past one of its budgets (connections, pings, subscribes per minute). */
export const TOO_MANY = 4429;

/** Counts events in a fixed one-minute window; true while within `max`. */
function perMinute(max: number) {
  let windowStart = Date.now();
  let count = 0;
  return () => {
    const now = Date.now();
    if (now - windowStart >= 60_000) {
      windowStart = now;
      count = 0;
    }
    return ++count <= max;
  };
}
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * graphql-ws on the HTTP server's port and GraphQL path. Every operation goes through
 * `yoga.getEnveloped`, so the same plugins (auth scopes, limits, logging, masking) apply as over
 * HTTP and SSE, and the context is built by the same factory (with `connectionParams`).
 */
export function attachGraphqlWs(options: GraphqlWsOptions): GraphqlWsTransport {
  const { httpServer, yoga, services } = options;
  const path = options.path ?? '/graphql';
  const maxBufferedBytes = options.maxBufferedBytes ?? 4 * 1024 * 1024;
  const maxSubscriptions = options.maxSubscriptionsPerSocket ?? 100;
  const log = services.log.child({ transport: 'graphql-ws' });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const contexts = new Set<Ctx>();
  let closing = false;
  const maxPerSource = options.maxConnectionsPerSource ?? Infinity;
  const maxPerClient = options.maxConnectionsPerClient ?? Infinity;
  const maxPings = options.maxPingsPerMinute ?? Infinity;
  const maxSubscribes = options.maxSubscribesPerMinute ?? Infinity;
  /** Open sockets per source address and authenticated ones per client id. */
  const bySource = new Map<string, number>();
  const byClient = new Map<string, number>();
  const bump = (m: Map<string, number>, key: string, by: number) => {
    const n = (m.get(key) ?? 0) + by;
    if (n > 0) m.set(key, n);
    else m.delete(key);
  };
  const budgetOf = (ctx: Ctx) => (ctx.extra.budget ??= { ping: perMinute(maxPings), subscribe: perMinute(maxSubscribes) });
  const tooMany = (ctx: Ctx, reason: string) => {
    log.warn({ reason, source: ctx.extra.request.socket.remoteAddress, clientId: ctx.extra.auth?.principal.clientId }, 'graphql-ws: socket over budget');
    ctx.extra.socket.close(TOO_MANY, reason);
  };

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (pathname !== path) {
      // Somebody else may serve this path; if nobody does, refuse instead of leaving it hanging.
      if (httpServer.listenerCount('upgrade') === 1) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    if (closing) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
      return;
    }
    // One address holding hundreds of sockets (each with its subscriptions) is refused up front.
    const source = request.socket.remoteAddress ?? 'unknown';
    if ((bySource.get(source) ?? 0) >= maxPerSource) {
      socket.end(
        `HTTP/1.1 429 Too Many Requests\r\nRetry-After: 10\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nat most ${maxPerSource} WebSocket connections per address\n`,
      );
      return;
    }
    bump(bySource, source, 1);
    wss.handleUpgrade(request, socket, head, (ws) => {
      ws.once('close', () => bump(bySource, source, -1));
      wss.emit('connection', ws, request);
    });
  };
  httpServer.on('upgrade', onUpgrade);

  const closeForbidden = (ctx: Ctx, reason: string) => ctx.extra.socket.close(CloseCode.Forbidden, reason);

  /** Closes the socket when the token in force expires, unless a ping brings a fresh one first. */
  const armExpiry = (ctx: Ctx, auth: SocketAuth) => {
    if (auth.expiry) clearTimeout(auth.expiry);
    const ms = Math.min(auth.principal.expiresAt * 1000 - Date.now(), MAX_TIMER_MS);
    auth.expiry = setTimeout(() => closeForbidden(ctx, 'Forbidden: token expired'), Math.max(ms, 0));
    auth.expiry.unref();
  };

  const authorizationOf = (ctx: Ctx): string | null => {
    const p = ctx.connectionParams;
    const given = p?.authorization ?? p?.Authorization;
    if (typeof given === 'string' && given !== '') return given;
    return ctx.extra.request.headers.authorization ?? null;
  };

  const server = useServer<Record<string, unknown> | undefined, Extra>(
    {
      connectionInitWaitTimeout: options.connectionInitWaitTimeoutMs ?? 3_000,
      onConnect: async (ctx) => {
        const authorization = authorizationOf(ctx);
        if (!authorization || closing) return false;
        try {
          const principal = await services.auth.verify(authorization);
          if ((byClient.get(principal.clientId) ?? 0) >= maxPerClient) {
            tooMany(ctx, `Too many connections: at most ${maxPerClient} per client`);
            return false;
          }
          const auth: SocketAuth = { authorization, principal, expiry: null };
          ctx.extra.auth = auth;
          bump(byClient, principal.clientId, 1);
          armExpiry(ctx, auth);
          contexts.add(ctx);
          return { expiresAt: new Date(principal.expiresAt * 1000).toISOString() };
        } catch (err) {
          log.debug({ err: (err as Error).message }, 'graphql-ws: connection refused');
          return false;
        }
      },
      // A client renews its token on a live socket with `{"type":"ping","payload":{"authorization":"Bearer …"}}`.
      onPing: async (ctx, payload) => {
        // A flood of token refreshes (each one verified) stalled every other request.
        if (!budgetOf(ctx).ping()) return tooMany(ctx, `Too many pings: at most ${maxPings} a minute`);
        const fresh = payload?.authorization;
        const auth = ctx.extra.auth;
        if (typeof fresh !== 'string' || !auth) return;
        try {
          const principal = await services.auth.verify(fresh);
          if (principal.clientId !== auth.principal.clientId) {
            return closeForbidden(ctx, 'Forbidden: a refreshed token must belong to the same client');
          }
          auth.authorization = fresh;
          auth.principal = principal;
          armExpiry(ctx, auth);
        } catch {
          closeForbidden(ctx, 'Forbidden: the refreshed token is invalid');
        }
      },
      onSubscribe: async (ctx, _id, params) => {
        // Counted before anything is parsed: failing subscribes cost as much as good ones.
        if (!budgetOf(ctx).subscribe()) {
          tooMany(ctx, `Too many subscribe messages: at most ${maxSubscribes} a minute`);
          return [new GraphQLError('too many subscribe messages on this socket', { extensions: { code: 'RATE_LIMITED' } })];
        }
        if (Object.keys(ctx.subscriptions).length > maxSubscriptions) {
          return [new GraphQLError(`at most ${maxSubscriptions} operations per socket`, { extensions: { code: 'RATE_LIMITED' } })];
        }
        const { request } = ctx.extra;
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          request: toFetchRequest(request),
          req: request,
          socket: ctx.extra.socket,
          params,
          // The token in force now (a ping may have replaced the one from connection_init).
          connectionParams: { ...ctx.connectionParams, authorization: ctx.extra.auth?.authorization },
        });
        // Parse and validation failures (armor limits throw) answer this operation; thrown out of
        // onSubscribe they would close the socket (4500) with every other operation on it.
        let document: DocumentNode;
        const query = resolveWsQuery(options.trusted ?? null, params);
        if (query instanceof GraphQLError) return requestErrors([query]);
        try {
          document = parse(query);
          const errors = validate(schema, document);
          if (errors.length) return requestErrors(errors);
        } catch (err) {
          if (err instanceof GraphQLError) return requestErrors([err]);
          throw err;
        }
        const args: ExecutionArgs & { rootValue: { execute: typeof execute; subscribe: typeof subscribe } } = {
          schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        return args;
      },
      execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args) as never,
      subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args) as never,
      onNext: (ctx, _id, _payload, _args, result) => {
        const { socket } = ctx.extra;
        // Once: later events of a socket already closing find it no longer OPEN.
        if (socket.bufferedAmount > maxBufferedBytes && socket.readyState === socket.OPEN) {
          log.warn({ bufferedAmount: socket.bufferedAmount }, 'graphql-ws: closing a slow consumer');
          options.onSlowConsumer?.();
          socket.close(SLOW_CONSUMER, 'Slow consumer: reconnect and refetch');
          // A client that reads nothing never answers the close frame either.
          setTimeout(() => socket.terminate(), 1000).unref();
        }
        // Variable errors and the like have no code of their own; give them the contract's.
        return result.errors?.length ? withContractCodes(result) : undefined;
      },
      onClose: (ctx) => {
        if (ctx.extra.auth?.expiry) clearTimeout(ctx.extra.auth.expiry);
        if (contexts.delete(ctx) && ctx.extra.auth) bump(byClient, ctx.extra.auth.principal.clientId, -1);
      },
    },
    wss,
    options.keepAliveMs ?? 12_000,
  );

  // A revoked client's sockets close within recheckMs: each token is verified again (which reads
  // the client's record, see auth.verify), not only at connection_init and on pings.
  const recheck = setInterval(() => {
    for (const ctx of contexts) {
      const auth = ctx.extra.auth;
      if (!auth) continue;
      services.auth.verify(auth.authorization).catch((err: Error) => {
        if (contexts.has(ctx)) closeForbidden(ctx, `Forbidden: ${err.message}`.slice(0, 120));
      });
    }
  }, options.recheckMs ?? 2000);
  recheck.unref();

  return {
    get clients() {
      return wss.clients.size;
    },
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(recheck);
      httpServer.off('upgrade', onUpgrade);
      // End every operation: its loop ends and graphql-ws sends `complete` to the client.
      await Promise.all(
        [...contexts].flatMap((ctx) => Object.values(ctx.subscriptions).map((op) => (op && 'return' in op ? op.return?.(undefined) : undefined))),
      );
      const end = Date.now() + 2000;
      while ([...contexts].some((ctx) => Object.keys(ctx.subscriptions).length > 0) && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 5));
      }
      const disposed = server.dispose(); // closes every socket with 1001 Going away
      const force = setTimeout(() => {
        for (const ws of wss.clients) ws.terminate();
      }, 1000);
      await disposed;
      clearTimeout(force);
    },
  };
}

/**
 * The upgrade request as a fetch Request, which is what the context factory and plugins read.
 * POST, not the upgrade's GET: Yoga refuses mutations "via GET" (a CSRF guard for plain HTTP),
 * and an operation on an authenticated socket is no such request.
 */
function toFetchRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const host = req.headers.host ?? 'localhost';
  return new Request(new URL(req.url ?? '/', `http://${host}`), { method: 'POST', headers });
}
