import { brandWithType } from '@pothos/core';
import type { Context } from '../context.ts';
import { builder } from '../schema/builder.ts';

/**
 * `node(id)`. Ids are the store's raw ids (UUIDv7, unique across every table), not base64
 * "Type:id" strings: every argument of the contract takes the same id the records show, and the
 * type is found by looking the id up in each node table at once. The loaders batch, so that is
 * one read per table, and the lookups join the request's other loads of the same type.
 */
const nodeLoaders = (ctx: Context) =>
  [
    ['Item', ctx.loaders.item],
    ['Model', ctx.loaders.model],
    ['Assessment', ctx.loaders.assessment],
    ['Target', ctx.loaders.target],
    ['Algorithm', ctx.loaders.algorithm],
  ] as const;

export async function findNode(ctx: Context, id: string): Promise<object | null> {
  const found = await Promise.all(
    nodeLoaders(ctx).map(async ([typename, loader]) => {
      const record = await (loader.load(id) as Promise<object>).catch(() => null);
      return record ? { typename, record } : null;
    }),
  );
  const hit = found.find((f) => f !== null);
  if (!hit) return null;
  brandWithType(hit.record, hit.typename as never);
  return hit.record;
}

builder.queryField('node', (t) =>
  t.field({
    type: builder.nodeInterfaceRef(),
    nullable: true,
    description: 'Any record that has an id (Target, Algorithm, Model, Item, Assessment); null when none has it',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => findNode(ctx, id),
  }),
);
