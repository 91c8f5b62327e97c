import type http from 'node:http';

/** Rest of a refused body read (and dropped) so the client sees the answer: at most this much… */
export const DRAIN_BYTES = 4 * 1024 * 1024;
/** …and for at most this long. */
export const DRAIN_MS = 2_000;

/**
 * An answer given before its body was read (a refused upload: 401/403/413/415). Most HTTP clients
 * (fetch/undici, browsers) only read the answer once they have sent their body; a socket closed
 * under them reads as a bare network error, so the client never learns that its token was
 * missing. The rest of a small body is therefore read and dropped, within a bound of bytes and
 * time: a body larger than DRAIN_BYTES, or a slow anonymous sender still trickling after
 * DRAIN_MS, gets its socket closed instead (issue 9, attack 12: nobody holds a connection open
 * by trickling).
 */
export function drainRefusedBodies(server: http.Server): void {
  server.on('request', (req, res) => {
    res.once('finish', () => {
      if (req.complete) return;
      const close = () => setImmediate(() => req.socket?.destroy());
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > DRAIN_BYTES) return close();
      let read = 0;
      const timer = setTimeout(close, DRAIN_MS);
      timer.unref();
      req.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > DRAIN_BYTES) {
          clearTimeout(timer);
          close();
        }
      });
      req.once('end', () => clearTimeout(timer));
      req.once('close', () => clearTimeout(timer));
      req.resume();
    });
  });
}
