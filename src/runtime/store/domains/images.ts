import type { Kysely } from 'kysely';
import type { BlobStore } from '../blobs.ts';
import type { Database } from '../db/schema.ts';
import { preparedInsert } from '../db/prepared.ts';
import { compilerOf, inList, perEngine, type Engine } from '../db/sql.ts';
import { newId } from '../ids.ts';
import type { NewImage } from '../store.ts';
import { chunks } from './context.ts';

export type ImageOwnerColumn = 'item_id' | 'assessment_id' | 'model_id';

/**
 * Refuses images whose blob is not stored (before the transaction that would name it). With
 * object storage, keys that other image rows already name (an assessment's overlay names its
 * item's picture) are taken as stored, which spares one request per picture on the predict path;
 * local files are cheaper to look at than to query.
 */
export async function requireBlobs(blobs: BlobStore, images: readonly NewImage[], db: Kysely<Database>, engine: Engine): Promise<void> {
  let keys = [...new Set(images.map((i) => i.blob))];
  if (blobs.backend !== 'files' && keys.length > 0) {
    const named = new Set(
      (
        await db
          .selectFrom('images')
          .select('blob')
          .where(inList(engine, 'blob', keys))
          .execute()
      ).map((r) => r.blob),
    );
    keys = keys.filter((k) => !named.has(k));
  }
  const present = await Promise.all(keys.map((k) => blobs.has(k)));
  const missing = keys.find((_, i) => !present[i]);
  if (missing !== undefined) throw new Error(`blob ${missing} is not stored`);
}

/** The images of many owners in one INSERT per chunk, positions in list order per owner. */
export async function insertImages(
  trx: Kysely<Database>,
  engine: Engine,
  column: ImageOwnerColumn,
  owned: readonly { ownerId: string; images: readonly NewImage[] }[],
  createdAt: string,
): Promise<void> {
  const rows = owned.flatMap(({ ownerId, images }) =>
    images.map((img, position) => ({
      id: newId(),
      item_id: column === 'item_id' ? ownerId : null,
      assessment_id: column === 'assessment_id' ? ownerId : null,
      model_id: column === 'model_id' ? ownerId : null,
      name: img.name,
      blob: img.blob,
      width: img.width,
      height: img.height,
      file_size: img.fileSize,
      content_type: img.contentType,
      position,
      created_at: createdAt,
    })),
  );
  const insert = imageInserts(engine);
  for (const chunk of chunks(rows)) await insert(trx, chunk);
}

const imageInserts = perEngine((engine) => preparedInsert(compilerOf(engine), 'images'));
