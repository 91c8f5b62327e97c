/**
 * The session protocol (worker-protocol.ts `ToSession`/`FromSession`) over a byte stream, for a
 * shared inference process (INFERENCE_SOCKET): one frame per message,
 *
 *   u32 header length | u32 body length | header (JSON) | body (the Float32Arrays, back to back)
 *
 * A message's top-level Float32Array fields travel in the body (tensors and maps: megabytes,
 * never through JSON); the header names them with their element counts, in body order.
 */
const PREFIX = 8;
/** A frame larger than this is refused (a 16-picture batch of 1024x1024 RGB is 200 MB). */
export const MAX_FRAME_BYTES = 1024 * 1024 * 1024;

type Header = { msg: Record<string, unknown>; arrays: [field: string, length: number][] };

export function encodeFrame(msg: object): Buffer[] {
  const plain: Record<string, unknown> = {};
  const arrays: [string, number][] = [];
  const bodies: Buffer[] = [];
  for (const [k, v] of Object.entries(msg)) {
    if (v instanceof Float32Array) {
      arrays.push([k, v.length]);
      bodies.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    } else plain[k] = v;
  }
  const header = Buffer.from(JSON.stringify({ msg: plain, arrays } satisfies Header));
  const bodyBytes = bodies.reduce((n, b) => n + b.byteLength, 0);
  const prefix = Buffer.allocUnsafe(PREFIX);
  prefix.writeUInt32BE(header.byteLength, 0);
  prefix.writeUInt32BE(bodyBytes, 4);
  return [prefix, header, ...bodies];
}

/** Collects a stream's chunks and hands back every whole frame as its message. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** The messages completed by `chunk`; throws on a frame that cannot be one of ours. */
  push(chunk: Buffer): Record<string, unknown>[] {
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
    const out: Record<string, unknown>[] = [];
    for (;;) {
      if (this.buffered < PREFIX) return out;
      const head = this.peek(PREFIX);
      const headerBytes = head.readUInt32BE(0);
      const bodyBytes = head.readUInt32BE(4);
      if (headerBytes + bodyBytes > MAX_FRAME_BYTES) throw new Error(`a frame of ${headerBytes + bodyBytes} bytes is over the limit`);
      const total = PREFIX + headerBytes + bodyBytes;
      if (this.buffered < total) return out;
      const frame = this.take(total);
      const { msg, arrays } = JSON.parse(frame.subarray(PREFIX, PREFIX + headerBytes).toString()) as Header;
      let at = PREFIX + headerBytes;
      for (const [field, length] of arrays) {
        // A copy into its own aligned buffer: a Float32Array needs 4-byte alignment, and the
        // message is handed on (transferred) on its own.
        const bytes = length * 4;
        const array = new Float32Array(length);
        new Uint8Array(array.buffer).set(frame.subarray(at, at + bytes));
        msg[field] = array;
        at += bytes;
      }
      out.push(msg);
    }
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.byteLength >= n) return this.chunks[0]!.subarray(0, n);
    return Buffer.concat(this.chunks).subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const frame = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.byteLength > 0 ? [rest] : [];
    this.buffered = rest.byteLength;
    return frame;
  }
}
