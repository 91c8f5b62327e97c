import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { pino } from 'pino';
import { AppError, ErrorCode } from '../src/errors.ts';
import type { Principal } from '../src/runtime/auth/auth.ts';
import { SCOPES } from '../src/runtime/auth/scopes.ts';
import { createPubSub, type PubSub } from '../src/runtime/pubsub/index.ts';
import { attachGraphqlWs, type GraphqlWsOptions } from '../src/transport/graphql-ws.ts';

/**
 * A small Yoga with one subscription over the real pub/sub and the real graphql-ws transport:
 * for transport behaviour that does not depend on the gateway's schema (protocol close codes,
 * keep-alive, backpressure). Tokens: "Bearer ok:<seconds to live>" for client "c".
 */
export async function miniGateway(options: Partial<GraphqlWsOptions> & { redisUrl?: string; plugins?: Plugin[] } = {}) {
  const log = pino({ level: 'silent' });
  const pubsub: PubSub = await createPubSub({ log, redisUrl: options.redisUrl });
  const auth = {
    async verify(header: string | null | undefined): Promise<Principal> {
      const m = /^Bearer ok(?::(\w+))?:(\d+(?:\.\d+)?)$/.exec(header ?? '');
      if (!m) throw new AppError(ErrorCode.UNAUTHENTICATED, 'bad token');
      return { clientId: m[1] ?? 'c', scope: 'all', scopes: new Set(SCOPES), expiresAt: Date.now() / 1000 + Number(m[2]) };
    },
  };
  /** How often the subscription field's `resolve` ran (one per event per distinct execution). */
  const resolved = { count: 0 };
  const yoga = createYoga<{ connectionParams?: Record<string, unknown> }>({
    logging: false,
    plugins: options.plugins ?? [],
    // What shared execution keys on: the client (from the token) and the public URL.
    context: async ({ connectionParams }) => ({
      principal: await auth.verify(String(connectionParams?.authorization)).catch(() => null),
      baseUrl: 'http://mini',
    }),
    schema: createSchema({
      typeDefs: /* GraphQL */ `
        type Query { me: String }
        type Subscription { progress(modelId: String!, size: Int): String! }
      `,
      resolvers: {
        Query: { me: (_r: unknown, _a: unknown, ctx: { connectionParams?: Record<string, unknown> }) => String(ctx.connectionParams?.authorization) },
        Subscription: {
          progress: {
            subscribe: (_r: unknown, a: { modelId: string }) => pubsub.subscribe('trainingProgress', a.modelId, { bufferSize: 16 }),
            resolve: (e: { stage: string }, a: { size?: number }) => {
              resolved.count++;
              return a.size ? e.stage.padEnd(a.size, '.') : e.stage;
            },
          },
        },
      },
    }),
  });
  const httpServer = http.createServer(yoga);
  const transport = attachGraphqlWs({ httpServer, yoga, services: { auth: auth as never, log }, ...options });
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  const { port } = httpServer.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/graphql`,
    httpUrl: `http://127.0.0.1:${port}/graphql`,
    pubsub,
    transport,
    resolved,
    publish: (modelId: string, stage: string) =>
      pubsub.publish('trainingProgress', modelId, {
        modelId,
        progress: 0,
        stage,
        status: 'TRAINING',
        message: null,
        at: new Date().toISOString(),
      }),
    async close() {
      await transport.close();
      await pubsub.close();
      httpServer.closeAllConnections();
      await new Promise((r) => httpServer.close(r));
    },
  };
}
