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
  /** Stores one event; a failure to store is logged, never the caller's failure. */
  record(event: Omit<AuditEventRecord, 'id' | 'at'> & { at?: string }): Promise<void>;
  list(filter: AuditFilter, page: PageArgs): Promise<Page<AuditEventRecord>>;
  /** Every matching event, newest first, page by page (exports). */
  each(filter: AuditFilter): AsyncGenerator<AuditEventRecord>;
}

export function createAuditService(deps: { store: Store; log: Logger; now?: () => number }): AuditService {
  const { store, log } = deps;
  const now = deps.now ?? Date.now;
  return {
    async record(event) {
      try {
        await store.recordAuditEvent({ ...event, at: event.at ?? new Date(now()).toISOString() });
      } catch (err) {
        log.error({ err, audit: event }, 'audit: an event could not be stored');
      }
    },
    list: (filter, page) => store.listAuditEvents(filter, page),
    async *each(filter) {
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
