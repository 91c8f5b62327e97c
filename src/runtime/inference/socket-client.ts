import net from 'node:net';
import { encodeFrame, FrameReader } from './frames.ts';
import { type ClientHooks, PendingCalls, type Reply, type WithId } from './pending-calls.ts';

/**
 * Request/response by id with a shared inference process over a Unix socket (INFERENCE_SOCKET):
 * the same interface as ThreadClient, so the pipeline worker runs its batches there instead of on
 * a session thread of its own. Connects on first use; should the connection drop, everything in
 * flight fails, `onExit` is told (the models must be loaded again), and the next request
 * connects anew.
 */
export class SocketClient<Req extends WithId, Res extends Reply> {
  private socket: net.Socket | null = null;
  private readonly calls = new PendingCalls<Res>();
  private closed = false;

  private readonly path: string;
  private readonly hooks: ClientHooks<Res>;

  constructor(path: string, hooks: ClientHooks<Res> = {}) {
    this.path = path;
    this.hooks = hooks;
  }

  /** `transfer` is accepted for ThreadClient's signature; the bytes are written to the socket. */
  call(msg: Req extends unknown ? Omit<Req, 'id'> : never, _transfer: ArrayBuffer[] = []): Promise<Res> {
    if (this.closed) return Promise.reject(new Error('the inference connection is closed'));
    const socket = this.socket ?? this.connect();
    if (this.calls.size === 0) socket.ref();
    const { id, reply } = this.calls.add();
    for (const part of encodeFrame({ ...msg, id })) socket.write(part);
    return reply;
  }

  async close(graceMs = 5_000): Promise<void> {
    this.closed = true;
    if (this.socket) await this.calls.drained(graceMs);
    const s = this.socket;
    this.socket = null;
    this.calls.failAll('the inference connection is shutting down');
    s?.destroy();
  }

  /** Gives the connection up (a run passed its deadline): in flight fails, the next call reconnects. */
  abandon(reason: string): void {
    const s = this.socket;
    if (!s) return;
    this.socket = null;
    this.calls.failAll(`the inference connection was given up: ${reason}`);
    s.destroy();
    if (!this.closed) this.hooks.onExit?.(reason);
  }

  private connect(): net.Socket {
    const socket = net.createConnection(this.path);
    this.socket = socket;
    socket.unref();
    const reader = new FrameReader();
    socket.on('data', (chunk: Buffer) => {
      let messages: Record<string, unknown>[];
      try {
        messages = reader.push(chunk);
      } catch (err) {
        socket.destroy(err as Error);
        return;
      }
      for (const m of messages as Res[]) {
        if (m.id === undefined) this.hooks.onEvent?.(m);
        else if (this.calls.settle(m) && this.calls.size === 0) socket.unref();
      }
    });
    const gone = (reason: string) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.calls.failAll(`the shared inference process (INFERENCE_SOCKET) is unreachable: ${reason}`);
      if (!this.closed) this.hooks.onExit?.(reason);
    };
    socket.on('error', (err) => gone(err.message));
    socket.on('close', () => gone('connection closed'));
    return socket;
  }
}
