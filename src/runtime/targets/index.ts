import { AppError, ErrorCode } from '../../errors.ts';
import { storeLookup } from '../store/lookup.ts';
import { validName } from '../store/names.ts';
import type { Store } from '../store/store.ts';
import type { TargetsService } from './targets.ts';

export type { TargetsService } from './targets.ts';

/** The target created for the first upload or import when nobody made one. */
export const DEFAULT_TARGET_NAME = 'default';

export function createTargetsService({ store }: { store: Store }): TargetsService {
  const lookup = storeLookup(store);
  return {
    create(name, preprocessing) {
      const steps = (preprocessing ?? []).map((p) => ({
        name: validName(p.name, 'preprocessing.name'),
        active: p.active ?? null,
        config: p.config ?? null,
      }));
      return store.createTarget(validName(name), steps);
    },
    async setDefault(id) {
      await lookup.target(id);
      return store.setDefaultTarget(id);
    },
    async forNewRecords(targetId) {
      if (targetId) return lookup.target(targetId);
      const current = await store.defaultTarget();
      if (current) return current;
      try {
        return await store.createTarget(DEFAULT_TARGET_NAME, []);
      } catch (err) {
        // Two first uploads at once: the other one created it.
        if (!(err instanceof AppError && err.code === ErrorCode.CONFLICT)) throw err;
        const made = await store.defaultTarget();
        if (!made) throw err;
        return made;
      }
    },
  };
}
