// oidc-provider (a test issuer here) ships no types: what test/oidc.test.ts uses of it.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  interface Account {
    accountId: string;
    claims(): Record<string, unknown>;
  }
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown> & { findAccount?: (ctx: unknown, sub: string) => Account | Promise<Account> });
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
  }
}
