import { z } from 'zod';

/**
 * A model's quality figures (ModelRecord.stats) as the schema every reader trusts: imported
 * manifests are checked against it, and a stored row that does not match it (written before the
 * check, or by hand) reads as "no stats" instead of failing every list it appears in.
 */
const figure = z.number().nullable();
const metric = z.object({ computed: figure, projected: figure });

export const modelStatsSchema = z.object({
  accuracy: figure,
  precision: metric,
  recall: metric,
  method: z
    .string()
    .max(2000)
    .nullish()
    .transform((v) => v ?? null),
  /** Held-out scores of graded synthetic defects (training/sensitivity.ts); older models have none. */
  sensitivity: z
    .array(
      z.object({
        kind: z.enum(['spot', 'line']),
        size: z.number().positive(),
        contrast: z.number().positive(),
        scores: z.array(z.number()).max(1000),
      }),
    )
    .max(64)
    // absent stays absent: stats written before it read back exactly as they were
    .nullish(),
});

export type ModelStatsShape = z.output<typeof modelStatsSchema>;

/** The stats when they match the schema, else null. */
export function statsOrNull(raw: unknown): ModelStatsShape | null {
  const r = modelStatsSchema.safeParse(raw);
  return r.success ? r.data : null;
}

export interface SensitivityReading {
  kind: 'spot' | 'line';
  size: number;
  contrast: number;
  /** Probes painted and judged. */
  tested: number;
  /** Probes whose map reached the threshold on them (a box there; the picture judged BAD). */
  caught: number;
  /** The probes' scores, for reading them at any threshold. */
  scores: number[];
}

/** The sensitivity grid read at a threshold: how many probes of each cell it would have caught. */
export function sensitivityAt(cells: NonNullable<ModelStatsShape['sensitivity']>, threshold: number): SensitivityReading[] {
  return cells.map(({ kind, size, contrast, scores }) => ({
    kind,
    size,
    contrast,
    tested: scores.length,
    caught: scores.filter((s) => s >= threshold).length,
    scores,
  }));
}
