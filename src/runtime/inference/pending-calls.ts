/** What a request carries for its reply to find it. */
export type WithId = { id: number };
/** A reply: `type` says which, `id` names the call it answers (none for events). */
export type Reply = { type: string; id?: number; message?: string; contract?: boolean };
/** What a client tells its owner: events without a call, and the loss of its thread or connection. */
export type ClientHooks<Res> = { onEvent?: (m: Res) => void; onExit?: (reason: string) => void };

/**
 * The calls awaiting their reply, by id: what ThreadClient (a worker thread) and SocketClient
 * (the shared inference process) have in common. A reply of type `error` rejects its call, with
 * `contract` carried over (a model that breaks the ONNX contract).
 */
export class PendingCalls<Res extends Reply> {
  private readonly pending = new Map<number, { resolve: (m: Res) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  /** Called when the last pending call settles (`drained` waits for it). */
  private idle: (() => void) | null = null;

  get size(): number {
    return this.pending.size;
  }

  /** A new call: its id, and the promise of its reply. */
  add(): { id: number; reply: Promise<Res> } {
    const id = this.nextId++;
    const reply = new Promise<Res>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    return { id, reply };
  }

  /** Settles the call `m` answers; false when it answers none (an event, or a call already failed). */
  settle(m: Res): boolean {
    const p = m.id === undefined ? undefined : this.pending.get(m.id);
    if (!p) return false;
    this.pending.delete(m.id!);
    if (this.pending.size === 0) this.idle?.();
    if (m.type === 'error') p.reject(Object.assign(new Error(m.message ?? 'worker error'), { contract: m.contract === true }));
    else p.resolve(m);
    return true;
  }

  failAll(message: string): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    this.idle?.();
    for (const p of all) p.reject(new Error(message));
  }

  /** Resolves once no call is pending, or after `graceMs`. */
  drained(graceMs: number): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.idle = resolve;
      setTimeout(resolve, graceMs).unref();
    });
  }
}
