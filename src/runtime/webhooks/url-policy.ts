import dns from 'node:dns';
import type net from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Where webhooks may send to (WEBHOOK_ALLOWED_HOSTS): host names (`mes.plant.local`, `*.plant.local`),
 * IPs, CIDRs, and `public` for any public unicast address (the default, and the only entry
 * unless configured). A client that creates a webhook must not be able to make the gateway call
 * its own network (SSRF): the address is checked when the webhook is saved, again on every
 * connection after DNS resolution (a name that later resolves elsewhere), and on each redirect.
 */
export interface UrlPolicy {
  /** Why `url` may not be used (scheme, host or its addresses), or null when it may. */
  check(url: string): Promise<string | null>;
  /** True when a connection to `address` (resolved from `host`) is allowed. */
  allows(host: string, address: string): boolean;
  /** A `net.connect` lookup that resolves and refuses addresses outside the policy. */
  lookup: net.LookupFunction;
}

type Entry = { kind: 'public' } | { kind: 'name'; name: string; suffix: boolean } | { kind: 'cidr'; range: [ipaddr.IPv4 | ipaddr.IPv6, number] };

function parseEntry(raw: string): Entry {
  const v = raw.trim().toLowerCase();
  if (v === 'public') return { kind: 'public' };
  if (v.includes('/')) return { kind: 'cidr', range: ipaddr.parseCIDR(v) };
  const bare = v.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(bare)) {
    const ip = ipaddr.process(bare);
    return { kind: 'cidr', range: [ip, ip.kind() === 'ipv4' ? 32 : 128] };
  }
  if (v.startsWith('*.')) return { kind: 'name', name: v.slice(1), suffix: true };
  return { kind: 'name', name: v, suffix: false };
}

/** Public unicast: not loopback, private, link-local, unique-local, CGNAT, multicast, reserved... */
export const isPublicAddress = (address: string): boolean => {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
};

export function createUrlPolicy(entries: readonly string[]): UrlPolicy {
  const parsed = entries.map((e) => {
    try {
      return parseEntry(e);
    } catch {
      throw new Error(`WEBHOOK_ALLOWED_HOSTS: "${e}" is not a host name, IP, CIDR or "public"`);
    }
  });

  const nameAllowed = (host: string) => parsed.some((e) => e.kind === 'name' && (e.suffix ? host.endsWith(e.name) : host === e.name));

  const allows = (host: string, address: string) => {
    const h = host.toLowerCase().replace(/^\[|\]$/g, '');
    if (nameAllowed(h)) return true;
    if (!ipaddr.isValid(address)) return false;
    const ip = ipaddr.process(address);
    return parsed.some((e) => {
      if (e.kind === 'public') return ip.range() === 'unicast';
      if (e.kind === 'cidr') return ip.kind() === e.range[0].kind() && ip.match(e.range);
      return false;
    });
  };

  const lookup: net.LookupFunction = (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const allowed = addresses.filter((a) => allows(hostname, a.address));
      if (allowed.length === 0) {
        const e = Object.assign(
          new Error(`${hostname} resolves to ${addresses.map((a) => a.address).join(', ')}, which WEBHOOK_ALLOWED_HOSTS does not allow`),
          {
            code: 'EWEBHOOKHOSTREFUSED',
          },
        );
        return callback(e, '', 0);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };

  return {
    allows,
    lookup,
    async check(raw) {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return 'is not a URL';
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be http:// or https://, got ${url.protocol}`;
      if (url.username || url.password) return 'must not carry credentials (the signature authenticates the gateway)';
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if (ipaddr.isValid(host)) return allows(host, host) ? null : `${host} is not an address WEBHOOK_ALLOWED_HOSTS allows`;
      if (nameAllowed(host.toLowerCase())) return null;
      let addresses: dns.LookupAddress[];
      try {
        addresses = await dns.promises.lookup(host, { all: true });
      } catch (err) {
        return `${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
      }
      const refused = addresses.filter((a) => !allows(host, a.address));
      return refused.length === 0 ? null : `${host} resolves to ${refused.map((a) => a.address).join(', ')}, which WEBHOOK_ALLOWED_HOSTS does not allow`;
    },
  };
}
