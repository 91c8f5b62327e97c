import { z } from 'zod';
import { modelStatsSchema } from '../../model-stats.ts';
import { ARCHIVE_FORMAT_VERSION, type InputSpec } from './contract.ts';

/** Algorithm parameters a manifest may carry (200,000 were accepted and stored). */
export const MAX_MANIFEST_PARAMETERS = 200;

const dim = z.number().int().min(1).max(8192);

export const tilingSchema = z.object({
  longSide: z.number().int().min(1).max(65536),
  overlap: z.number().int().min(0),
  merge: z.enum(['max', 'mean']).optional(),
});

export const inputSpecSchema = z
  .object({
    width: dim,
    height: dim,
    color: z.enum(['gray', 'rgb']),
    resize: z.literal('fill'),
    anomalyRange: z
      .tuple([z.number(), z.number()])
      .refine(([lo, hi]) => Number.isFinite(lo) && Number.isFinite(hi) && hi > lo, 'anomalyRange must be [lo, hi] with hi > lo'),
    tiling: tilingSchema.optional(),
    pictures: z
      .object({ aspect: z.tuple([z.number().positive(), z.number().positive()]), shortSide: z.tuple([z.number().positive(), z.number().positive()]) })
      .refine((p) => p.aspect[0] <= p.aspect[1] && p.shortSide[0] <= p.shortSide[1], 'pictures ranges must be [min, max]')
      .optional(),
  })
  // Tiles at least one pixel apart: an overlap of a whole tile would never move on.
  .refine((s) => !s.tiling || s.tiling.overlap < Math.min(s.width, s.height), {
    message: 'tiling.overlap must be smaller than the input width and height',
    path: ['tiling', 'overlap'],
  });

export const predictParametersSchema = z.object({
  threshold: z.number().refine(Number.isFinite, 'threshold must be a finite number'),
  ignoreOuter: z.number().int().min(0),
  minDetectedArea: z.number().int().min(0),
});

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'checksums must be sha256 hex digests');

export const manifestSchema = z.object({
  formatVersion: z.literal(ARCHIVE_FORMAT_VERSION),
  name: z.string().min(1).max(200),
  version: z.string().min(1).max(100),
  algorithm: z.object({
    name: z.string().min(1).max(200),
    version: z.string().max(100),
    parameters: z
      .record(z.string().min(1).max(100), z.string().max(2000))
      .refine((r) => Object.keys(r).length <= MAX_MANIFEST_PARAMETERS, `at most ${MAX_MANIFEST_PARAMETERS} parameters are accepted`),
  }),
  input: inputSpecSchema,
  predictParameters: predictParametersSchema,
  stats: modelStatsSchema.nullable(),
  okImageCount: z.number().int().min(0),
  ngImageCount: z.number().int().min(0),
  trainingTime: z.number().min(0).nullable(),
  createdAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'createdAt must be an ISO-8601 date'),
  checksums: z.record(z.string().max(100), sha256).refine((r) => Object.keys(r).length <= 3, "checksums names at most the folder's files"),
  // The shape only; ranges and counts are checked on import (images/regions.ts), with its messages.
  regions: z
    .array(
      z.object({
        mode: z.enum(['INCLUDE', 'EXCLUDE']),
        points: z.array(z.tuple([z.number(), z.number()])),
        sensitivity: z.number(),
        label: z.string().nullable(),
      }),
    )
    .optional(),
});

/** The model's input spec, or null when the record carries none (not trained yet) or a bad one. */
export function parseInputSpec(raw: unknown): InputSpec | null {
  const r = inputSpecSchema.safeParse(raw);
  return r.success ? (r.data as InputSpec) : null;
}

/** Zod's issues in one readable line: `input.width: Too small...; checksums: ...`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
