import { BREAK, type DocumentNode, NoSchemaIntrospectionCustomRule, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { IntrospectionMode } from '../config-security.ts';
import type { Context } from '../context.ts';
import { AppError, ErrorCode } from '../errors.ts';
import type { Principal } from '../runtime/auth/auth.ts';
import type { RateLimits } from '../runtime/limits/rate-limit.ts';

/**
 * Safe defaults of every response and operation (docs/security.md): security headers,
 * introspection as configured, CORS from an allow-list, per-client operation budgets.
 */

const HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};
/** API answers are never documents: nothing in them may run or be framed. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

export function securityHeaders(): Plugin {
  return {
    onResponse({ response }) {
      for (const [name, value] of Object.entries(HEADERS)) if (!response.headers.has(name)) response.headers.set(name, value);
      // GraphiQL and the dashboard are pages with their own scripts; everything else is data.
      const html = (response.headers.get('content-type') ?? '').startsWith('text/html');
      if (!html && !response.headers.has('content-security-policy')) response.headers.set('content-security-policy', API_CSP);
    },
  };
}

/** Whether the operation asks for the schema (`__schema` or `__type`, at any depth). */
const asksForSchema = (document: DocumentNode) => {
  let found = false;
  visit(document, {
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') {
        found = true;
        return BREAK;
      }
    },
  });
  return found;
};

/**
 * GRAPHQL_INTROSPECTION. `token` (the default): introspection needs a valid bearer token, as
 * every operation but `token` does (the contract); the check runs once the token is read, so it
 * answers UNAUTHENTICATED like any other field. `off`: refused at validation for everyone. `on`:
 * open to anyone (e.g. a code generator on a build machine without credentials).
 */
export function introspection(mode: IntrospectionMode): Plugin<Context> {
  if (mode === 'on') return {};
  if (mode === 'off')
    return {
      onValidate({ addValidationRule }) {
        addValidationRule(NoSchemaIntrospectionCustomRule);
      },
    };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue as Context | undefined;
      if (ctx?.principal || !asksForSchema(args.document)) return;
      setResultAndStopExecution({
        errors: [ctx?.authError ?? new AppError(ErrorCode.UNAUTHENTICATED, 'introspection needs a bearer token, as every operation but `token` does')],
      });
    },
  };
}

/** CORS_ORIGINS: the origins allowed to call from a browser; none (the default): same-origin only. */
export function corsOptions(origins: readonly string[]) {
  if (origins.length === 0) return false as const;
  return {
    origin: [...origins],
    credentials: true,
    allowedHeaders: ['authorization', 'content-type', 'x-graphql-yoga-csrf', 'apollo-require-preflight', 'x-request-id'],
    maxAge: 600,
  };
}

const rateLimited = (retryAfter: number, what: string) =>
  new AppError(ErrorCode.RATE_LIMITED, `too many ${what}; try again in ${retryAfter} s`, {
    retryAfter,
    http: { status: 429, headers: { 'retry-after': String(retryAfter) } },
  });

/**
 * Per-client budgets (GRAPHQL_RATE_PER_CLIENT operations, UPLOAD_RATE_PER_CLIENT uploads, per
 * minute; 0: none), counted through Redis when REDIS_URL is set so every instance shares them.
 */
export function clientBudgets(limits: RateLimits, budgets: { operationsPerMinute: number; uploadsPerMinute: number }) {
  const ops = budgets.operationsPerMinute > 0 ? limits.limiter('graphql-client', budgets.operationsPerMinute, 60) : null;
  const uploads = budgets.uploadsPerMinute > 0 ? limits.limiter('upload-client', budgets.uploadsPerMinute, 60) : null;
  return {
    /** Counts one upload request of the client; RATE_LIMITED past the budget. */
    async upload(principal: Principal): Promise<void> {
      if (!uploads) return;
      const r = await uploads.consume(principal.clientId);
      if (!r.ok) throw rateLimited(r.retryAfterSeconds, 'uploads');
    },
    plugin(): Plugin<Context> {
      return {
        // Synchronous without a budget (the default): no promise per operation.
        onExecute({ args, setResultAndStopExecution }) {
          const clientId = (args.contextValue as Context | undefined)?.principal?.clientId;
          if (!ops || !clientId) return;
          return ops.consume(clientId).then((r) => {
            if (!r.ok) setResultAndStopExecution({ errors: [rateLimited(r.retryAfterSeconds, 'operations')] });
          });
        },
      };
    },
  };
}
