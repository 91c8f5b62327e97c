import { afterEach, describe, expect, it } from 'vitest';
import { createAuditService } from '../src/runtime/audit/audit.ts';
import type { Store } from '../src/runtime/store/store.ts';
import { ENGINES, openTestStore, type TestStore } from './store-engines.ts';

const log = { info() {}, warn() {}, error() {}, debug() {} } as never;
const event = (action: string) => ({
  actor: 'tester',
  actorKind: 'client' as const,
  action,
  targetType: null,
  targetIds: ['t1'],
  outcome: 'ok' as const,
  detail: null,
  source: null,
});

/**
 * Audit events are written after the answers of their turn, all those of one turn in one
 * statement (one transaction: one fsync), not one transaction each in the answer's path.
 */
describe.each(ENGINES)('audit events grouped per turn (%s)', (engine) => {
  let t: TestStore | null = null;
  afterEach(async () => {
    await t?.cleanup();
    t = null;
  });

  /** The real store, with its group writes counted. */
  const counted = (store: Store) => {
    const writes: number[] = [];
    const wrapped = Object.create(store) as Store;
    wrapped.recordAuditEvents = (events) => {
      writes.push(events.length);
      return store.recordAuditEvents(events);
    };
    return { store: wrapped, writes };
  };

  it('stores the events of one turn in one write, and a list right after shows them', async () => {
    t = await openTestStore(engine);
    const { store, writes } = counted(t.store);
    const audit = createAuditService({ store, log });
    const recorded = [audit.record(event('predict')), audit.record(event('predict')), audit.record(event('createTarget'))];
    expect(writes).toEqual([]); // not in the caller's turn
    const page = await audit.list({ actor: 'tester' }, { first: 10 });
    expect(page.totalCount).toBe(3);
    expect(writes).toEqual([3]);
    await Promise.all(recorded);
    expect(page.nodes.map((e) => e.action).sort()).toEqual(['createTarget', 'predict', 'predict']);
  });

  it('stores what is still pending when closed (shutdown before the store closes)', async () => {
    t = await openTestStore(engine);
    const audit = createAuditService({ store: t.store, log });
    void audit.record(event('deleteModel'));
    await audit.close();
    const rows = await t.query<{ action: string }>("SELECT action FROM audit_events WHERE actor = 'tester'");
    expect(rows.map((r) => r.action)).toEqual(['deleteModel']);
  });
});
