import { describe, expect, it } from 'vitest';
import { createUrlSigner } from '../src/runtime/images/signed-url.ts';

describe('signed image URLs', () => {
  let clock = Date.parse('2026-06-01T00:00:00Z');
  const signer = createUrlSigner({ secret: 'test-secret', ttlSeconds: 60, now: () => clock });

  it('verifies its own URLs, relative or absolute, until they expire', () => {
    const url = signer.sign('/images/0123abcd');
    expect(url).toMatch(/^\/images\/0123abcd\?exp=\d+&sig=[\w-]+$/);
    expect(signer.verify(url)).toBe(true);
    expect(signer.verify(`https://gw.example${url}`)).toBe(true);
    const abs = signer.sign('https://gw.example/images/x?download=1');
    expect(abs.startsWith('https://gw.example/images/x?download=1&exp=')).toBe(true);
    expect(signer.verify(abs)).toBe(true);
    const start = clock;
    clock = start + 60_000;
    expect(signer.verify(url)).toBe(true);
    clock = start + 61_000;
    expect(signer.verify(url)).toBe(false);
    clock = start;
  });

  it('refuses tampered paths, queries, expiries and signatures', () => {
    const url = signer.sign('/images/aaaa?download=1');
    const exp = /exp=(\d+)/.exec(url)![1]!;
    expect(signer.verify(url.replace('/images/aaaa', '/images/aaab'))).toBe(false);
    expect(signer.verify(url.replace('download=1', 'download=0'))).toBe(false);
    expect(signer.verify(`${url}&extra=1`)).toBe(false);
    expect(signer.verify(url.replace(`exp=${exp}`, `exp=${Number(exp) + 3600}`))).toBe(false);
    expect(signer.verify(url.replace(/sig=[\w-]+/, 'sig=AAAA'))).toBe(false);
    expect(signer.verify(url.replace(/&sig=[\w-]+/, ''))).toBe(false);
    expect(signer.verify('/images/aaaa')).toBe(false);
    const other = createUrlSigner({ secret: 'other', ttlSeconds: 60, now: () => clock });
    expect(other.verify(url)).toBe(false);
  });

  it('gives a picture the same link for a step of a sixtieth of the lifetime, never outliving it', () => {
    let at = Date.parse('2026-06-01T00:00:30Z');
    const hourly = createUrlSigner({ secret: 'test-secret', ttlSeconds: 3600, now: () => at });
    const first = hourly.sign('/files/images/a');
    const expOf = (url: string) => Number(/exp=(\d+)/.exec(url)![1]);
    // Later in the same minute: the same link (a browser's cached copy stays good).
    at += 20_000;
    expect(hourly.sign('/files/images/a')).toBe(first);
    expect(hourly.sign('/files/images/b')).not.toBe(first);
    for (const t of [at, at + 59_000, at + 61_000, at + 3_599_000]) {
      at = t;
      const url = hourly.sign('/files/images/a');
      const left = expOf(url) - at / 1000;
      expect(left).toBeLessThanOrEqual(3600);
      expect(left).toBeGreaterThan(3600 - 60);
      expect(hourly.verify(url)).toBe(true);
    }
    // The next minute: a new expiry and a new signature.
    expect(expOf(hourly.sign('/files/images/a'))).toBeGreaterThan(expOf(first));
  });
});
