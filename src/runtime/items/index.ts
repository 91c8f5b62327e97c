import type { Config } from '../../config.ts';
import { AppError, ErrorCode, badInput, notFound } from '../../errors.ts';
import { currentLog, type Logger } from '../../logging.ts';
import { ingestImages } from '../images/ingest.ts';
import { modelByRef, storeLookup } from '../store/lookup.ts';
import { validName } from '../store/names.ts';
import type { Store } from '../store/store.ts';
import { ItemType } from '../store/types.ts';
import type { TargetsService } from '../targets/targets.ts';
import { checkedAnnotation } from './annotations.ts';
import type { ItemsService } from './items.ts';

export type { ItemsService, UploadRequest, AnnotateRequest, AnnotationInput } from './items.ts';

export interface ItemsDeps {
  store: Store;
  targets: TargetsService;
  config: Pick<Config, 'upload'>;
  log: Logger;
}

/** Raises NOT_FOUND naming every id of `ids` missing from `found`. */
function requireFound(what: string, ids: readonly string[], found: readonly { id: string }[]): void {
  const present = new Set(found.map((r) => r.id));
  const missing = [...new Set(ids)].filter((id) => !present.has(id));
  if (missing.length > 0) {
    throw new AppError(ErrorCode.NOT_FOUND, `${what} ${missing.map((id) => `"${id}"`).join(', ')} not found`, { ids: missing });
  }
}

export function createItemsService(deps: ItemsDeps): ItemsService {
  const { store, targets, config } = deps;
  const lookup = storeLookup(store);

  return {
    async addToTraining({ itemIds, good }) {
      const ids = [...new Set(itemIds)];
      if (ids.length === 0) throw badInput('itemIds must not be empty', { argument: 'itemIds' });
      if (ids.length > config.upload.maxFiles) throw badInput(`at most ${config.upload.maxFiles} items at once, got ${ids.length}`, { argument: 'itemIds' });
      const items = await store.itemsByIds(ids);
      requireFound('Items', ids, items);
      const images = await store.imagesByOwners('item', ids);
      const byItem = new Map<string, typeof images>();
      for (const img of images) byItem.set(img.ownerId, [...(byItem.get(img.ownerId) ?? []), img]);
      return store.addItems(
        ids.map((id) => {
          const item = items.find((i) => i.id === id)!;
          const pictures = (byItem.get(id) ?? []).sort((a, b) => a.position - b.position);
          return {
            name: item.name,
            targetId: item.targetId,
            type: ItemType.TRAINING,
            good,
            images: pictures.map(({ name, blob, width, height, fileSize, contentType }) => ({ name, blob, width, height, fileSize, contentType })),
          };
        }),
      );
    },
    async addUploaded(req) {
      const { files } = req;
      if (files.length === 0) throw badInput('files must not be empty', { argument: 'files' });
      if (files.length > config.upload.maxFiles) {
        throw new AppError(ErrorCode.PAYLOAD_TOO_LARGE, `at most ${config.upload.maxFiles} files per request, got ${files.length}`, {
          argument: 'files',
        });
      }
      let targetId = req.targetId ?? null;
      if (req.modelId) {
        const model = await modelByRef(lookup, req.modelId, targetId);
        if (targetId && model.targetId !== targetId) {
          throw badInput(`model "${model.id}" belongs to another target than "${targetId}"`, { argument: 'modelId' });
        }
        targetId = model.targetId;
      }
      const target = await targets.forNewRecords(targetId);

      const { images, rollback } = await ingestImages([...files], { blobs: store.blobs, limits: config.upload });
      try {
        const items = await store.addItems(
          images.map((image) => ({
            name: image.name,
            targetId: target.id,
            type: req.training ? ItemType.TRAINING : ItemType.PREDICTION,
            good: req.good ?? null,
            images: [image],
          })),
        );
        currentLog(deps.log).info({ count: items.length, targetId: target.id }, 'items added');
        return { items, target };
      } catch (err) {
        await rollback();
        throw err;
      }
    },

    async annotate(req) {
      const [item] = await store.itemsByIds([req.itemId]);
      if (!item) throw notFound('Item', req.itemId);
      // boxes are in the item's (first) picture's pixels
      const [picture] = await store.imagesByOwners('item', [item.id]);
      const annotations = req.annotations.map((a, i) => checkedAnnotation(a, i, picture));
      let updated = item;
      if (req.good !== undefined || req.label !== undefined) {
        const label = req.label == null ? null : validName(req.label, 'label');
        updated = await store.labelItem(item.id, req.good === undefined ? item.good : req.good, req.label === undefined ? item.userLabel : label);
      }
      const saved = await store.setUserAnnotations(item.id, annotations);
      return { item: updated, annotations: saved };
    },

    async delete(ids) {
      const found = await store.itemsByIds(ids);
      requireFound('Item', ids, found);
      return store.deleteItems(found.map((i) => i.id));
    },
  };
}
