import type { Services } from '../context.ts';
import { AppError } from '../errors.ts';
import type { Principal } from '../runtime/auth/auth.ts';
import { hasAllScopes } from '../runtime/auth/scopes.ts';
import { RestFailure, restFailureOf } from './http.ts';

export type RestScope = 'read' | 'all' | 'public';

/**
 * The REST layer's one authentication step, run before anything of the request body is read:
 * `read` needs a valid bearer token, `all` a token with scope "all", `public` nothing. 401 (with
 * `WWW-Authenticate: Bearer`) for a missing or refused token, 403 for a read-only one on a write.
 */
export async function authenticate(request: Request, scope: RestScope, services: Pick<Services, 'auth'>): Promise<Principal | null> {
  if (scope === 'public') return null;
  let principal: Principal;
  try {
    principal = await services.auth.verify(request.headers.get('authorization'));
  } catch (err) {
    if (err instanceof AppError) throw restFailureOf(err);
    throw err;
  }
  if (scope === 'all' && !hasAllScopes(principal)) {
    throw new RestFailure(403, `scope "${principal.scope}" may not do this; it needs scope "all"`, { code: 'FORBIDDEN' });
  }
  return principal;
}
