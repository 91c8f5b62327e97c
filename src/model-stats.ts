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
});

export type ModelStatsShape = z.output<typeof modelStatsSchema>;

/** The stats when they match the schema, else null. */
export function statsOrNull(raw: unknown): ModelStatsShape | null {
  const r = modelStatsSchema.safeParse(raw);
  return r.success ? r.data : null;
}
