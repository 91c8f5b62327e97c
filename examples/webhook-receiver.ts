// A webhook receiver that verifies the signature: what an MES or PLC gateway runs to take
// Spectro's results. Node 24, no dependencies:
//
//   WEBHOOK_SECRET=... PORT=8080 node examples/webhook-receiver.ts
//
// Create the webhook in GraphQL with the same secret:
//   mutation { createWebhook(input: { url: "http://mes.plant.local:8080/spectro", events: [PREDICTION_RESULT], secret: "..." }) { id } }
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';

const secret = process.env.WEBHOOK_SECRET ?? '';
if (secret.length < 16) throw new Error('set WEBHOOK_SECRET (16 characters or more), the secret of the webhook');
const MAX_AGE_S = 300;
const seen = new Set<string>(); // delivery ids already handled (a real receiver keeps them in its database)

function verified(raw: Buffer, header: string | undefined): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`);
  const got = Buffer.from(header ?? '');
  return got.length === expected.length && timingSafeEqual(got, expected);
}

http
  .createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      // 1. The signature covers the raw body, as received (verify before parsing).
      if (!verified(raw, req.headers['x-spectro-signature'] as string | undefined)) return res.writeHead(401).end('bad signature');
      const body = JSON.parse(raw.toString('utf8'));
      // 2. The timestamp is inside the signed body: refuse replays of old deliveries.
      if (Math.abs(Date.now() / 1000 - body.timestamp) > MAX_AGE_S) return res.writeHead(400).end('too old');
      // 3. Retries repeat a delivery id: handle each once, but still answer 2xx.
      if (seen.has(body.id)) return res.writeHead(200).end('duplicate');
      seen.add(body.id);
      if (body.event === 'PREDICTION_RESULT') {
        const { target, item, assessment } = body.data;
        console.log(`${target.name} ${item.name}: ${assessment.result} (score ${assessment.score.toFixed(3)}, ${assessment.detected_objects} defect(s))`);
      } else {
        console.log(`${body.event}: model ${body.data.model.name} v${body.data.model.version} is ${body.data.model.status}`);
      }
      // Answer fast (2xx within WEBHOOK_TIMEOUT_MS); do slow work after answering.
      res.writeHead(200).end('ok');
    });
  })
  .listen(Number(process.env.PORT ?? 8080), () => console.log(`listening on :${process.env.PORT ?? 8080}`));
