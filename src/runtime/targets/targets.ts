import type { RegionInput } from '../images/regions.ts';
import type { ModelRecord, Preprocessing, Region, TargetRecord } from '../store/types.ts';

export interface PreprocessingInput {
  name: string;
  active?: boolean | null;
  config?: string | null;
}

/** Targets: what is inspected. The default one is where uploads and imports go unless told otherwise. */
export interface TargetsService {
  /** Creates a target (names checked); the first one becomes the default. CONFLICT when the name is taken. */
  create(name: string, preprocessing?: readonly PreprocessingInput[] | null): Promise<TargetRecord>;
  /** Makes it the default target (NOT_FOUND for an unknown id). */
  setDefault(id: string): Promise<TargetRecord>;
  /**
   * Where new records go: the given target (NOT_FOUND when unknown), else the default one, which
   * is created as "default" when there is no target yet.
   */
  forNewRecords(targetId?: string | null): Promise<TargetRecord>;
  /**
   * Replaces the regions of interest of a target, or of a model (`modelId`, "active" accepted),
   * which then override its target's. `regions` null on a model drops its own set, so it judges
   * with its target's again. Exactly one owner; BAD_USER_INPUT naming the region that is wrong.
   */
  setRegions(owner: RegionOwner, regions: readonly RegionInput[] | null): Promise<RegionsOf>;
  /** What a target, or a model ("active" accepted), judges with now. Exactly one owner. */
  regionsOf(owner: RegionOwner): Promise<RegionsOf>;
}

export interface RegionOwner {
  targetId?: string | null;
  modelId?: string | null;
}

/** Where regions were set, and what its owner judges with now. */
export interface RegionsOf {
  target: TargetRecord;
  /** The model when the regions were set on one. */
  model: ModelRecord | null;
  /** What the owner judges with: a model's own, else its target's. */
  regions: Region[];
  /** A model judging with its target's regions (it has none of its own). */
  inherited: boolean;
}

export type { Preprocessing, RegionInput };
