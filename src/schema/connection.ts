import { encodeCursor } from '../runtime/store/ids.ts';
import type { PageArgs } from '../runtime/store/store.ts';
import type { KeysetPage, Page } from '../runtime/store/types.ts';
import { badInput } from '../errors.ts';
import { Item } from './items.ts';
import { Model } from './models.ts';
import { builder } from './builder.ts';

builder.globalConnectionField('totalCount', (t) =>
  t.int({
    description: 'How many records match, over all pages',
    resolve: (parent) => (typeof parent.totalCount === 'function' ? parent.totalCount() : parent.totalCount),
  }),
);

/** A connection's count, or how to read it when a query asks for it (counting can cost more than the page). */
export type TotalCount = number | (() => Promise<number>);

export const ItemConnection = builder.connectionObject({ type: Item, name: 'ItemConnection' }, { name: 'ItemEdge' });
export const ModelConnection = builder.connectionObject({ type: Model, name: 'ModelConnection' }, { name: 'ModelEdge' });

/** A store page as a Relay connection (cursors are the store's keyset cursors). */
export function connectionFromPage<T extends { id: string }>(page: KeysetPage<T>, totalCount: TotalCount): ReturnType<typeof connection<T>>;
export function connectionFromPage<T extends { id: string }>(page: Page<T>): ReturnType<typeof connection<T>>;
export function connectionFromPage<T extends { id: string }>(page: KeysetPage<T> & { totalCount?: number }, totalCount?: TotalCount) {
  return connection(page, totalCount ?? page.totalCount!);
}

function connection<T extends { id: string }>(page: KeysetPage<T>, totalCount: TotalCount) {
  const edges = page.nodes.map((node) => ({ cursor: encodeCursor(node.id), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: page.endCursor ?? edges.at(-1)?.cursor ?? null,
    },
    totalCount,
  };
}

export const MAX_PAGE = 100;

/** Validated `first`/`after` (the contract has no backwards paging). */
export function pageOf(args: { first?: number | null; after?: string | null }): PageArgs {
  const first = args.first ?? 20;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE) {
    throw badInput(`first must be between 0 and ${MAX_PAGE}, got ${first}`, { argument: 'first' });
  }
  return { first, after: args.after ?? null };
}
