import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPubSub } from '../src/runtime/pubsub/index.ts';
import type { PubSub } from '../src/runtime/pubsub/pubsub.ts';
import { createStore, type LocalStore } from '../src/runtime/store/index.ts';
import type { ItemRecord, ModelRecord, TargetRecord } from '../src/runtime/store/types.ts';
import { createTrainingService, type TrainingService } from '../src/runtime/training/index.ts';
import { type Category, type DefectSpec, generateImage, toPng } from '../bench/synthetic.ts';

export const quietLog = { info() {}, warn() {}, error() {}, debug() {} };

export interface TrainingFixture {
  dir: string;
  store: LocalStore;
  pubsub: PubSub;
  target: TargetRecord;
  service: TrainingService;
  /** Adds TRAINING items of generated pictures (good: true = OK, false = NG). */
  addTraining(category: Category, count: number, opts?: { size?: number; seed?: number; defect?: DefectSpec; good?: boolean | null }): Promise<ItemRecord[]>;
  /** Starts another service on the same store (a "restart", or a second instance). */
  restart(opts?: { leaseMs?: number }): Promise<TrainingService>;
  /** Resolves with the model once it reaches one of the statuses. */
  waitFor(modelId: string, statuses: readonly string[]): Promise<ModelRecord>;
  cleanup(): Promise<void>;
}

export async function trainingFixture(opts: { concurrency?: number; leaseMs?: number } = {}): Promise<TrainingFixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-training-'));
  const store = await createStore({ dataDir: dir });
  const pubsub = await createPubSub({ log: quietLog });
  const config = { trainingConcurrency: opts.concurrency ?? 1 };
  const services: TrainingService[] = [await createTrainingService({ store, pubsub, config, log: quietLog, leaseMs: opts.leaseMs })];
  const target = await store.createTarget('parts', []);
  let seed = 1;
  return {
    dir,
    store,
    pubsub,
    target,
    get service() {
      return services[services.length - 1]!;
    },
    async addTraining(category, count, o = {}) {
      const items = [];
      for (let i = 0; i < count; i++) {
        const img = generateImage(category, { seed: o.seed !== undefined ? o.seed + i : seed++, size: o.size ?? 64, defect: o.defect ?? null });
        const png = await toPng(img);
        items.push({
          name: `${category}-${i}.png`,
          targetId: target.id,
          type: 'TRAINING' as const,
          good: o.good === undefined ? true : o.good,
          images: [
            {
              name: `${category}-${i}.png`,
              blob: await store.blobs.put(png),
              width: img.width,
              height: img.height,
              fileSize: png.byteLength,
              contentType: 'image/png',
            },
          ],
        });
      }
      return store.addItems(items);
    },
    async restart(o = {}) {
      const s = await createTrainingService({ store, pubsub, config, log: quietLog, leaseMs: o.leaseMs ?? opts.leaseMs });
      services.push(s);
      return s;
    },
    async waitFor(modelId, statuses) {
      const sub = pubsub.subscribe('trainingProgress', modelId);
      try {
        const [now] = await store.modelsByIds([modelId]);
        if (now && statuses.includes(now.status)) return now;
        for await (const ev of sub) {
          if (statuses.includes(ev.status)) return (await store.modelsByIds([modelId]))[0]!;
        }
        throw new Error('subscription ended');
      } finally {
        await sub.return();
      }
    },
    async cleanup() {
      for (const s of services) await s.close();
      await pubsub.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
