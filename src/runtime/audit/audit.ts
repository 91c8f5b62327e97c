import type { Logger } from '../../logging.ts';
import type { AuditFilter, PageArgs, Store } from '../store/store.ts';
import type { AuditEventRecord, Page } from '../store/types.ts';

export type { AuditEventRecord, AuditFilter };

/**
 * The audit trail (docs/security.md): who (a client, or a user) created, trained, activated,
 * re-thresholded, imported, exported or deleted what, and when; stored with the records,
 * queryable and exportable.
 */
export interface AuditService {
  /**
   * Stores one event, with the others of this turn of the event loop (resolves once stored); a
   * failure to store is logged, never the caller's failure.
   */
  record(event: Omit<AuditEventRecord, 'id' | 'at'> & { at?: string }): Promise<void>;
  /** Events recorded so far are stored first: a list always shows them. */
  list(filter: AuditFilter, page: PageArgs): Promise<Page<AuditEventRecord>>;
  /** Every matching event, newest first, page by page (exports). */
  each(filter: AuditFilter): AsyncGenerator<AuditEventRecord>;
  /** Stores what is still pending (shutdown, before the store closes). */
  close(): Promise<void>;
}

/** Events per statement (10 columns each: well under SQLite's 32766 bound variables). */
const GROUP = 500;

export function createAuditService(deps: { store: Store; log: Logger; now?: () => number }): AuditService {
  const { store, log } = deps;
  const now = deps.now ?? Date.now;
  /*
   * Every mutation records an event, after it ran but before its answer is written. Stored there
   * and then, each one was a transaction of its own (an fsync under SQLITE_SYNCHRONOUS=full: 3 ms
   * of a blocked event loop per predict, measured) in the answer's path. Events are gathered
   * instead and written on the next turn (after the answers of this one are on their way), all
   * those of a turn in one statement.
   */
  const pending: Omit<AuditEventRecord, 'id'>[] = [];
  let flushing: Promise<void> | null = null;
  const flush = async () => {
    while (pending.length > 0) {
      const group = pending.splice(0, GROUP);
      try {
        await store.recordAuditEvents(group);
      } catch (err) {
        log.error({ err, audit: group }, `audit: ${group.length} event(s) could not be stored`);
      }
    }
    flushing = null;
  };
  const stored = async () => {
    while (flushing) await flushing;
  };
  return {
    record(event) {
      pending.push({ ...event, at: event.at ?? new Date(now()).toISOString() });
      flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(flush);
      return flushing;
    },
    async list(filter, page) {
      await stored();
      return store.listAuditEvents(filter, page);
    },
    close: stored,
    async *each(filter) {
      await stored();
      let after: string | null = null;
      for (;;) {
        const page: Page<AuditEventRecord> = await store.listAuditEvents(filter, { first: 100, after });
        yield* page.nodes;
        if (!page.hasNextPage) return;
        after = page.endCursor;
      }
    },
  };
}
