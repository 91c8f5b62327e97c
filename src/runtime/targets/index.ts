import { AppError, ErrorCode, badInput } from '../../errors.ts';
import { validateRegions } from '../images/regions.ts';
import { effectiveRegions, modelByRef, storeLookup } from '../store/lookup.ts';
import { validName } from '../store/names.ts';
import type { Store } from '../store/store.ts';
import type { ModelRecord } from '../store/types.ts';
import type { RegionOwner, RegionsOf, TargetsService } from './targets.ts';

export type { RegionOwner, RegionsOf, TargetsService } from './targets.ts';

/** The target created for the first upload or import when nobody made one. */
export const DEFAULT_TARGET_NAME = 'default';

export function createTargetsService({ store }: { store: Store }): TargetsService {
  const lookup = storeLookup(store);
  const oneOwner = (owner: RegionOwner) => {
    if (!owner.targetId === !owner.modelId) {
      throw badInput('give either targetId or modelId: the regions belong to a target or to one of its models', { argument: 'targetId' });
    }
  };
  const regionsOfModel = async (model: ModelRecord): Promise<RegionsOf> => {
    const [target, sets] = await Promise.all([lookup.target(model.targetId), store.regionSetsByOwners([model.id, model.targetId])]);
    const now = effectiveRegions(sets, model);
    return { target, model, regions: now.regions, inherited: now.source === 'target' };
  };
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
    async setRegions(owner, input) {
      oneOwner(owner);
      if (owner.targetId) {
        if (input === null) throw badInput("a target's regions are a list (empty: the whole picture is judged)", { argument: 'regions' });
        const target = await lookup.target(owner.targetId);
        const regions = validateRegions(input);
        await store.setRegions({ kind: 'target', id: target.id }, regions);
        return { target, model: null, regions, inherited: false };
      }
      const model = await modelByRef(lookup, owner.modelId!);
      await store.setRegions({ kind: 'model', id: model.id }, input === null ? null : validateRegions(input));
      return regionsOfModel(model);
    },
    async regionsOf(owner) {
      oneOwner(owner);
      if (owner.targetId) {
        const target = await lookup.target(owner.targetId);
        const [set] = await store.regionSetsByOwners([target.id]);
        return { target, model: null, regions: set?.regions ?? [], inherited: false };
      }
      return regionsOfModel(await modelByRef(lookup, owner.modelId!));
    },
  };
}
