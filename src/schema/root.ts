import { builder } from './builder.ts';

// Root types carry the default policy: reading needs a valid token, changing needs scope `all`.
// A field opts out with `skipTypeScopes: true` (only `token` does).
builder.queryType({ authScopes: { authenticated: true } });
builder.mutationType({ authScopes: { writer: true } });
builder.subscriptionType({ authScopes: { authenticated: true } });
