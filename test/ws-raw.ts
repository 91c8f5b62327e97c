import WebSocket from 'ws';
import { deferred } from './realtime-helpers.ts';

export interface WsMessage {
  type: string;
  id?: string;
  payload?: any;
}

/**
 * A raw graphql-transport-ws socket (no client library), for tests that drive the protocol by
 * hand. Messages queue up until a `take` asks for them.
 */
export async function rawSocket(url: string, options: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(url, 'graphql-transport-ws', options);
  const messages: WsMessage[] = [];
  const arrived: (() => void)[] = [];
  const closed = deferred<{ code: number; reason: string }>();
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)));
    arrived.splice(0).forEach((f) => f());
  });
  ws.on('close', (code, reason) => closed.resolve({ code, reason: String(reason) }));
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  /** A string goes out as it is (to send broken frames on purpose), anything else as JSON. */
  const send = (m: unknown) => ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  /** Removes and returns the first message of that type (or matching `match`), waiting for one if need be. */
  const take = (match: string | ((m: WsMessage) => boolean)) =>
    new Promise<WsMessage>((resolve) => {
      const matches = typeof match === 'string' ? (m: WsMessage) => m.type === match : match;
      const look = () => {
        const i = messages.findIndex(matches);
        if (i >= 0) resolve(messages.splice(i, 1)[0]!);
        else arrived.push(look);
      };
      look();
    });
  return { ws, send, take, closed: closed.promise };
}
