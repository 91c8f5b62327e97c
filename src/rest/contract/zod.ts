import * as z from 'zod';
import 'zod-openapi';

// Small builders shared by the REST contract's schemas, so that every schema reads like the
// original document's property tables (type, nullability, required) and the OpenAPI output
// spells the types the way the original does (`integer` + `int32`, `date-time`, `binary`).

export { z };

/** Marks a field, parameter or operation as not in spectro-rest-v1 (the original is silent there). */
export const EXTENSION = 'x-spectro-extension';

/** An added field: in the OpenAPI document with `x-spectro-extension: true` and why it is there. */
export const ext = <T extends z.ZodType>(schema: T, description: string): T => schema.meta({ [EXTENSION]: true, description }) as T;

export const int32 = () => z.int32().meta({ override: { format: 'int32' } });

/** The original's "integer(int32)null". */
export const int32OrNull = () =>
  z
    .int32()
    .nullable()
    .meta({ override: { type: ['integer', 'null'], format: 'int32', minimum: -2147483648, maximum: 2147483647, anyOf: undefined } });

/** Timestamps as the records carry them (ISO 8601, UTC). */
export const dateTime = () => z.string().meta({ format: 'date-time', example: '2020-10-19T10:35:37Z' });

/** A file part of a multipart body. */
export const binary = () => z.file().meta({ override: { type: 'string', format: 'binary', contentEncoding: undefined } });

/**
 * A boolean sent as text (query strings, multipart fields): `true`/`false`, also `1`/`0`, in any
 * case. Documented as the original has it, a boolean.
 */
export const textBool = (description?: string) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['true', 'false', '1', '0'], { error: (iss) => `must be true or false, got ${JSON.stringify(iss.input)}` }))
    .transform((v) => v === 'true' || v === '1')
    .meta({ override: { type: 'boolean', ...(description ? { description } : {}) } });

/** A whole number sent as text (query strings), documented as `integer` `int32` within the bounds. */
export const textInt = (min: number, max: number, description?: string) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, { error: (iss) => `must be a whole number, got ${JSON.stringify(iss.input)}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be at least ${min}` })
        .max(max, { error: `must be at most ${max}` }),
    )
    .meta({ override: { type: 'integer', format: 'int32', minimum: min, maximum: max, pattern: undefined, ...(description ? { description } : {}) } });

/**
 * A list in a query string: `?ids=a&ids=b` (OpenAPI's form/explode, what generated clients send),
 * also `?ids=a,b` and `?ids[]=a`, read by the router into a string array before validation.
 */
export const queryList = (description?: string) =>
  z.array(z.string().trim().min(1)).meta({ override: { type: 'array', items: { type: 'string' }, ...(description ? { description } : {}) } });

/** An integer id (target_id) in a query string or a multipart field. */
export const textId = () =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, { error: (iss) => `must be an integer id, got ${JSON.stringify(iss.input)}` })
    .transform(Number)
    .meta({ override: { type: 'integer', format: 'int32', pattern: undefined } });
