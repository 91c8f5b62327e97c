/**
 * A request path reduced to a bounded label: metrics and span names must not grow with every id in
 * a URL (`/api/v1/models/01a2…/` -> `/api/v1/models`, `/files/…` -> `/files`).
 */
const REST_RESOURCES: ReadonlySet<string> = new Set(['algorithms', 'items', 'models', 'targets', 'utils']);

export function routeOf(pathname: string): string {
  if (pathname === '/graphql') return '/graphql';
  if (pathname === '/' || pathname.startsWith('/dashboard')) return '/dashboard';
  if (pathname.startsWith('/files/')) return '/files';
  if (pathname.startsWith('/upstream/')) return '/upstream';
  if (pathname.startsWith('/api/v1/')) {
    // A fixed set: a label per path a client makes up would grow without bound.
    const resource = pathname.split('/')[3] ?? '';
    return REST_RESOURCES.has(resource) ? `/api/v1/${resource}` : '/api/v1/other';
  }
  if (['/health', '/readiness', '/metrics', '/api/auth/token'].includes(pathname)) return pathname;
  return 'other';
}

/** Probes and scrapes: neither traced nor worth a log line per call. */
export const PROBE_PATHS: ReadonlySet<string> = new Set(['/health', '/readiness', '/metrics']);
