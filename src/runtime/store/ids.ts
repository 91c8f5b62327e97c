import { randomBytes } from 'node:crypto';

let lastMs = 0;
let seq = 0;

/**
 * A UUIDv7 (RFC 9562): 48-bit millisecond time, then a 12-bit counter (method 1 of §6.2), then
 * random bits. Ids made by one process sort in creation order, even within one millisecond,
 * which is what keyset pagination relies on.
 */
export function newId(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    seq = randomBytes(2).readUInt16BE(0) & 0x7ff; // leave headroom before the counter overflows
  } else if (++seq > 0xfff) {
    lastMs++;
    seq = 0;
  }
  const b = randomBytes(16);
  b.writeUIntBE(lastMs, 0, 6);
  b[6] = 0x70 | (seq >> 8);
  b[7] = seq & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Opaque Relay cursor for a keyset position (the row id). */
export const encodeCursor = (id: string) => Buffer.from(`k:${id}`).toString('base64url');

/** The id inside a cursor, or null when the cursor is not one of ours. */
export function decodeCursor(cursor: string): string | null {
  const s = Buffer.from(cursor, 'base64url').toString('utf8');
  return s.startsWith('k:') && s.length > 2 ? s.slice(2) : null;
}
