import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createStore } from '../src/runtime/store/index.ts';
import { POSTGRES_OFF, scratchSchema, type ScratchSchema } from './store-engines.ts';

// DATA_DIR's blob files belong to one database. Pointing DATABASE_URL elsewhere must not make
// the start-up sweep delete the pictures of the database they belong to.

let dir: string;
let schema: ScratchSchema | null = null;
afterEach(async () => {
  await schema?.drop();
  schema = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(POSTGRES_OFF)('a data directory shared by two databases', () => {
  it('keeps the files of the SQLite database while a PostgreSQL one runs on the directory, and sweeps them again under their own', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-data-dir-'));
    const sqlite = await createStore({ dataDir: dir });
    const target = await sqlite.createTarget('t', []);
    const used = await sqlite.blobs.put(Buffer.from('picture of an item'));
    await sqlite.addItems([
      {
        name: 'a.png',
        targetId: target.id,
        type: 'TRAINING',
        good: true,
        images: [{ name: 'a.png', blob: used, width: 1, height: 1, fileSize: 18, contentType: 'image/png' }],
      },
    ]);
    const orphan = await sqlite.blobs.put(Buffer.from('left over'));
    const past = new Date(Date.now() - 2 * 3600_000);
    for (const key of [used, orphan]) fs.utimesSync(sqlite.blobs.path(key), past, past);
    await sqlite.close();

    schema = await scratchSchema();
    const warnings: unknown[] = [];
    const postgres = await createStore({ dataDir: dir, databaseUrl: schema.url, log: { info() {}, warn: (o: unknown) => warnings.push(o) } });
    expect(await postgres.blobs.has(used)).toBe(true);
    expect(await postgres.blobs.has(orphan)).toBe(true);
    expect(warnings).toHaveLength(1);
    await postgres.close();

    const again = await createStore({ dataDir: dir });
    expect(await again.blobs.has(used)).toBe(true);
    expect(await again.blobs.has(orphan)).toBe(false);
    await again.close();
  });
});
