import type { Migration } from 'kysely';
import type { Engine } from '../sql.ts';
import { initial } from './0001-initial.ts';
import { integerKeys } from './0002-integer-keys.ts';
import { webhooks } from './0003-webhooks.ts';
import { scaleOut } from './0004-scale-out.ts';
import { security } from './0005-security.ts';
import { users } from './0006-users.ts';
import { regions } from './0007-regions.ts';
import { activations } from './0008-activations.ts';
import { itemPages } from './0009-item-pages.ts';

/**
 * Every schema change, in order, for both engines. Never edit one that has been released: add
 * the next. Names sort in the order they apply.
 */
export function migrations(engine: Engine): Record<string, Migration> {
  return {
    '0001_initial': initial(engine),
    '0002_integer_keys': integerKeys(engine),
    '0003_webhooks': webhooks(engine),
    '0004_scale_out': scaleOut(engine),
    '0005_security': security(engine),
    '0006_users': users(engine),
    '0007_regions': regions(engine),
    '0008_activations': activations(engine),
    '0009_item_pages': itemPages(),
  };
}
