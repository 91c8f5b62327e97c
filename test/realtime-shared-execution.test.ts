import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { useSharedSubscriptionExecution } from '../src/transport/shared-execution.ts';
import { until } from './realtime-helpers.ts';
import { miniGateway } from './realtime-mini.ts';

let gw: Awaited<ReturnType<typeof miniGateway>>;
beforeAll(async () => {
  gw = await miniGateway({ plugins: [useSharedSubscriptionExecution()] });
});
afterAll(() => gw.close());

function subscriber(token: string, modelId: string, size = 0) {
  const client = createClient({ url: gw.url, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: token } });
  const got: string[] = [];
  const stop = client.subscribe<{ progress: string }>(
    { query: 'subscription ($m: String!, $s: Int) { progress(modelId: $m, size: $s) }', variables: { m: modelId, s: size } },
    { next: (r) => void got.push(r.data!.progress), error: () => {}, complete: () => {} },
  );
  return { got, stop, client };
}

it('subscribers with the same operation, variables and client share one execution per event', async () => {
  const same = Array.from({ length: 5 }, () => subscriber('Bearer ok:60', 'shared'));
  const otherVariables = subscriber('Bearer ok:60', 'shared', 12);
  const otherClient = subscriber('Bearer ok:someone:60', 'shared');
  await until(() => gw.pubsub.stats().subscribers === 7);

  gw.resolved.count = 0;
  await gw.publish('shared', 'one');
  await gw.publish('shared', 'two');
  await until(() => [...same, otherVariables, otherClient].every((s) => s.got.length === 2));

  for (const s of same) expect(s.got).toEqual(['one', 'two']);
  expect(otherVariables.got).toEqual(['one.........', 'two.........']);
  expect(otherClient.got).toEqual(['one', 'two']);
  // Per event: one execution for the five, one for other variables, one for the other client.
  expect(gw.resolved.count).toBe(2 * 3);

  // Leaving works as before: every subscription is released.
  for (const s of [...same, otherVariables, otherClient]) s.stop();
  await until(() => gw.pubsub.stats().subscribers === 0);
  await Promise.all([...same, otherVariables, otherClient].map((s) => s.client.dispose()));
});
