import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: any;
}

/**
 * A real HTTP receiver on 127.0.0.1 for webhook tests. `mode` decides the answer: `up` 200,
 * `down` 503, `hang` never answers. `next(n)` resolves once n more deliveries were accepted (200).
 */
export interface Receiver {
  url: string;
  port: number;
  mode: 'up' | 'down' | 'hang';
  /** Deliveries answered 200, in arrival order. */
  accepted: Received[];
  /** Requests answered 503, redirected, or left hanging. */
  refused: number;
  /** Resolves when `accepted` holds `count` deliveries. */
  waitFor(count: number): Promise<Received[]>;
  /** Resolves when `refused` reaches `count`. */
  waitForRefused(count: number): Promise<void>;
  /** Answers 307 to `location` for every request. */
  redirectTo: string | null;
  close(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  const waiters: { count: number; resolve: () => void; refused: boolean }[] = [];
  const hanging = new Set<http.ServerResponse>();
  const settle = () => {
    for (const w of [...waiters]) {
      if ((w.refused ? r.refused : r.accepted.length) >= w.count) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      if (r.redirectTo) {
        r.refused++;
        res.writeHead(307, { location: r.redirectTo }).end();
        settle();
        return;
      }
      if (r.mode === 'hang') {
        hanging.add(res);
        r.refused++;
        settle();
        return;
      }
      if (r.mode === 'down') {
        r.refused++;
        res.writeHead(503).end('down for maintenance');
        settle();
        return;
      }
      r.accepted.push({ headers: req.headers, raw, body: JSON.parse(raw) });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      settle();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  const r: Receiver = {
    url: `http://127.0.0.1:${actual}/hook`,
    port: actual,
    mode: 'up',
    accepted: [],
    refused: 0,
    redirectTo: null,
    waitFor(count) {
      return new Promise<void>((resolve) => {
        waiters.push({ count, resolve, refused: false });
        settle();
      }).then(() => r.accepted);
    },
    waitForRefused(count) {
      return new Promise<void>((resolve) => {
        waiters.push({ count, resolve, refused: true });
        settle();
      });
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return r;
}
