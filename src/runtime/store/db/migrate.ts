import { Migrator, sql, type Kysely } from 'kysely';
import { migrations } from './migrations/index.ts';
import type { Database } from './schema.ts';
import type { Engine } from './sql.ts';

/**
 * Brings the database to the newest schema with Kysely's Migrator (its `kysely_migration` table
 * records what ran); returns the migrations applied now. Each run is one transaction, so a crash
 * or a second instance starting at the same time cannot leave a half-migrated database
 * (PostgreSQL: Kysely's advisory lock; SQLite: BEGIN IMMEDIATE). A database migrated by a newer
 * build (a migration this one does not know) is refused.
 */
/** PostgreSQL's invalid_schema_name for a schema other than ours. */
function droppedMeanwhile(error: unknown, ours: string | undefined): boolean {
  const e = error as { code?: unknown; message?: unknown };
  return e?.code === '3F000' && typeof e.message === 'string' && !!ours && !e.message.includes(`"${ours}"`);
}

export async function migrateToLatest(db: Kysely<Database>, engine: Engine, only?: (name: string) => boolean): Promise<string[]> {
  // On PostgreSQL the bookkeeping tables live in the schema the connection works in. Named
  // explicitly, because Kysely otherwise looks for them in every schema it can see, and would
  // take another schema's (another deployment's, another test run's) for its own.
  const schema = engine === 'postgres' ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s : undefined;
  if (engine === 'postgres' && !schema) throw new Error('the PostgreSQL connection has no current schema (check search_path)');
  const migrator = new Migrator({
    db,
    provider: {
      // `only`: a subset, for tests that make a database as an older build left it.
      getMigrations: async () => Object.fromEntries(Object.entries(migrations(engine)).filter(([name]) => !only || only(name))),
    },
    // Work merged in another order than its numbers (0007 released before 0006): a database
    // already at 0007 takes 0006 later instead of refusing to start. Migrations stay additive
    // and independent of those numbered after them, so the order they run in does not matter.
    allowUnorderedMigrations: true,
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  let { error, results = [] } = await migrator.migrateToLatest();
  // Kysely's introspection asks `has_schema_privilege` of every schema the catalog lists; one
  // that another session drops meanwhile (another deployment's, a parallel test run's) fails the
  // whole read with "schema … does not exist". Nothing ran (each run is one transaction): again.
  for (let attempt = 1; error && attempt < 4 && droppedMeanwhile(error, schema); attempt++) {
    ({ error, results = [] } = await migrator.migrateToLatest());
  }
  if (error) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`database migration ${failed ? `"${failed}" ` : ''}failed: ${reason}`, { cause: error });
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
