import type { Config } from './config.ts';
import { AppError } from './errors.ts';
import { clientAddress } from './http/client-address.ts';
import { createLinks, type Links } from './links.ts';
import { createLoaders, type Loaders } from './loaders.ts';
import { requestIdOf, requestScope, type Logger } from './logging.ts';
import type { Accounts } from './runtime/auth/accounts.ts';
import type { Auth, Principal } from './runtime/auth/auth.ts';
import type { AuditService } from './runtime/audit/audit.ts';
import type { RateLimits } from './runtime/limits/rate-limit.ts';
import { queueCookie, readCookie, sessionCookie } from './http/session-cookie.ts';
import type { UrlSigner } from './runtime/images/signed-url.ts';
import type { LicenseService } from './runtime/license/license.ts';
import type { InferenceService } from './runtime/inference/inference.ts';
import type { ItemsService } from './runtime/items/items.ts';
import type { JobRunner } from './runtime/jobs/jobs.ts';
import type { scheduleSweeps } from './runtime/jobs/sweeps.ts';
import type { ModelsService } from './runtime/models/models.ts';
import type { PredictionsService } from './runtime/predictions/predictions.ts';
import type { PubSub } from './runtime/pubsub/pubsub.ts';
import type { Store } from './runtime/store/store.ts';
import type { TargetsService } from './runtime/targets/targets.ts';
import type { Metrics } from './runtime/telemetry/metrics.ts';
import type { TrainingService } from './runtime/training/training.ts';
import type { Upstreams } from './runtime/upstream/upstream.ts';
import type { MqttPublisher } from './runtime/mqtt/mqtt.ts';
import type { WebhooksService } from './runtime/webhooks/webhooks.ts';

export type { Links, Loaders };

/** Every long-lived engine, built once in server.ts; resolvers reach them only through `ctx.services`. */
export interface Services {
  config: Config;
  log: Logger;
  store: Store;
  auth: Auth;
  /** The audit trail of security-relevant actions (docs/security.md). */
  audit: AuditService;
  /** Rate-limit counters (shared through Redis when REDIS_URL is set). */
  limits: RateLimits;
  /** People (dashboard sign-in, roles, sessions) and API client administration. */
  accounts: Accounts;
  urls: UrlSigner;
  pubsub: PubSub;
  /** Background work (training, background predictions, exports, sweeps): BullMQ with REDIS_URL, else in this process. */
  jobs: JobRunner;
  /** The periodic sweeps of unreferenced blobs and staged files. */
  sweeps: ReturnType<typeof scheduleSweeps>;
  training: TrainingService;
  inference: InferenceService;
  // The use cases GraphQL and REST share (resolvers and routes parse, call one, shape the answer).
  targets: TargetsService;
  items: ItemsService;
  models: ModelsService & { close(): Promise<void> };
  predictions: PredictionsService;
  /** Other Spectro REST deployments (UPSTREAMS); empty when none are configured. */
  upstreams: Upstreams;
  license: LicenseService;
  /** Prometheus metrics (README "Operations"). */
  metrics: Metrics;
  /** Results pushed to the line (docs/integration.md): webhooks, and MQTT when MQTT_URL is set. */
  webhooks: WebhooksService;
  mqtt: MqttPublisher | null;
}

export interface Context {
  requestId: string;
  /** Carries the request id on every line. */
  log: Logger;
  services: Services;
  /** The token's client, or null when no valid token came with the request. */
  principal: Principal | null;
  /** Why a presented token was refused (expired, forged...); thrown where a principal is needed. */
  authError: AppError | null;
  loaders: Loaders;
  /** Origin that links in responses start with: PUBLIC_URL, else the request's own origin. */
  baseUrl: string;
  /** Signed image and download links for answers. */
  links: Links;
  /** The caller's address (per-source limits; http/client-address.ts). */
  source: string;
  /** The dashboard session cookie of the request, and a way to set or clear it on the response. */
  session: { token: string | null; set(token: string | null, maxAgeSeconds: number): void; userAgent: string | null };
}

export interface ContextInit {
  request: Request;
  /** graphql-ws `connection_init` payload, for WebSocket subscriptions. */
  connectionParams?: Record<string, unknown>;
}

function authorizationOf({ request, connectionParams }: ContextInit): string | null {
  const fromParams = connectionParams?.authorization ?? connectionParams?.Authorization;
  if (typeof fromParams === 'string' && fromParams !== '') return fromParams;
  return request.headers.get('authorization');
}

export function createContextFactory(services: Services): (initial: ContextInit) => Promise<Context> {
  return async (initial) => {
    const requestId = requestScope.getStore()?.requestId ?? requestIdOf(initial.request);
    const log = services.log.child({ requestId });
    let principal: Principal | null = null;
    let authError: AppError | null = null;
    const header = authorizationOf(initial);
    if (header) {
      try {
        principal = await services.auth.verify(header);
      } catch (err) {
        // Refused tokens only matter to fields that need a principal (`token` does not).
        if (!(err instanceof AppError)) throw err;
        authError = err;
      }
    }
    const baseUrl = (services.config.publicUrl ?? new URL(initial.request.url).origin).replace(/\/+$/, '');
    return {
      requestId,
      log,
      services,
      principal,
      authError,
      loaders: createLoaders(services.store),
      baseUrl,
      links: createLinks({ baseUrl, signer: services.urls, ttlSeconds: services.config.signedUrlTtlSeconds }),
      source: clientAddress(initial),
      session: {
        token: readCookie(initial.request),
        userAgent: initial.request.headers.get('user-agent'),
        set: (token, maxAge) => queueCookie(initial.request, sessionCookie(initial.request, services.config.publicUrl, token, maxAge)),
      },
    };
  };
}

/** Fresh loaders, so that a long-lived context (one subscription) never serves stale records. */
export function clearLoaders(ctx: Context): void {
  // Emptying the caches instead of building new loaders: this runs once per event per
  // subscriber, and building twelve new DataLoaders each time was a third of a delivery's CPU.
  for (const loader of Object.values(ctx.loaders)) loader.clearAll();
}
