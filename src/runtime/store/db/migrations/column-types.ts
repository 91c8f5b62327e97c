import { sql, type ColumnDataType, type Expression, type Kysely } from 'kysely';
import type { Engine } from '../sql.ts';

type DataType = ColumnDataType | Expression<unknown>;

/**
 * Column types per engine, so that one migration describes both. SQLite's tables are STRICT, so
 * only its five storage types appear there; PostgreSQL gets the native type for each: booleans,
 * jsonb, timestamptz, double precision, and ids compared byte-wise (collate "C"), which is the
 * order keyset paging relies on (UUIDv7 text sorts by creation time).
 */
export interface ColumnTypes {
  id: DataType;
  text: DataType;
  int: DataType;
  real: DataType;
  flag: DataType;
  json: DataType;
  time: DataType;
}

export function columnTypes(engine: Engine): ColumnTypes {
  return engine === 'postgres'
    ? { id: sql`text collate "C"`, text: 'text', int: 'integer', real: 'double precision', flag: 'boolean', json: 'jsonb', time: 'timestamptz' }
    : { id: 'text', text: 'text', int: 'integer', real: 'real', flag: 'integer', json: 'text', time: 'text' };
}

/** A migration's database handle: the schema's tables are not typed while they are being made. */
// biome-ignore lint/suspicious/noExplicitAny: the tables are not typed while they are being made
export type MigrationDb = Kysely<any>;
