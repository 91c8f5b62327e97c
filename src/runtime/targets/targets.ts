import type { Preprocessing, TargetRecord } from '../store/types.ts';

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
}

export type { Preprocessing };
