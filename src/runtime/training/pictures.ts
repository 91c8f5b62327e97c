import { pictureShapes } from '../images/picture-shape.ts';
import type { PictureShapes } from '../onnx/contract.ts';
import type { Store } from '../store/store.ts';
import type { ImageRecord, ModelRecord } from '../store/types.ts';

/**
 * The first picture of each of the model's training items, OK and NG apart (NG: labelled
 * good = false), and the range of their shapes (kept with the model: pictures far outside it
 * are refused at prediction). Throws when items vanished since the model was queued: it cannot
 * be trained as asked any more.
 */
export async function trainingPictures(store: Store, model: ModelRecord): Promise<{ ok: Uint8Array[]; ng: Uint8Array[]; shapes: PictureShapes | undefined }> {
  const items = await store.itemsByIds(model.trainItemIds);
  const byId = new Map(items.map((i) => [i.id, i]));
  const missing = model.trainItemIds.filter((id) => !byId.get(id)?.active);
  if (missing.length) {
    throw new Error(`${missing.length} of the model's ${model.trainItemIds.length} training items no longer exist (e.g. "${missing[0]}"); train a new model`);
  }
  const images = await store.imagesByOwners('item', model.trainItemIds);
  const first = new Map<string, ImageRecord>();
  for (const im of images) {
    const cur = first.get(im.ownerId);
    if (!cur || im.position < cur.position) first.set(im.ownerId, im);
  }
  const ok: Uint8Array[] = [];
  const ng: Uint8Array[] = [];
  for (const id of model.trainItemIds) {
    const im = first.get(id);
    if (!im) throw new Error(`training item "${id}" has no picture`);
    (byId.get(id)!.good === false ? ng : ok).push(await store.blobs.get(im.blob));
  }
  return { ok, ng, shapes: pictureShapes([...first.values()]) };
}
