import * as ort from 'onnxruntime-node';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors.ts';
import type { Topics } from '../src/runtime/pubsub/topics.ts';
import { ModelStatus } from '../src/runtime/store/types.ts';
import { type TrainingFixture, trainingFixture } from './training-fixtures.ts';

let fx: TrainingFixture | null = null;
afterEach(async () => {
  await fx?.cleanup();
  fx = null;
});

const small = [{ name: 'input_size', value: '48' }];

/** A pattern-matching model row as an earlier (or another) process would have left it. */
const leftBehind = (f: TrainingFixture, name: string, status: 'QUEUED' | 'TRAINING', trainItemIds: string[]) =>
  f.store.createModel({
    name,
    version: '1.0.0',
    algorithmId: 'pattern-matching',
    targetId: f.target.id,
    status,
    params: { input_size: '48' },
    predictParameters: { threshold: 0, ignoreOuter: 0, minDetectedArea: 0 },
    trainItemIds,
    okImageCount: trainItemIds.length,
    ngImageCount: 0,
  });

describe('training service', () => {
  it('answers QUEUED at once, publishes progress in order and ends READY with a usable model', async () => {
    fx = await trainingFixture();
    await fx.addTraining('plate', 6);
    await fx.addTraining('plate', 2, { defect: { kind: 'spot', size: 'large', contrast: 'high' }, good: false });
    const events: Topics['trainingProgress'][] = [];
    const sub = fx.pubsub.subscribe('trainingProgress');
    const collecting = (async () => {
      for await (const ev of sub) {
        events.push(ev);
        if (ev.status === 'READY' || ev.status === 'FAILED') break;
      }
    })();
    await sub.ready;
    const model = await fx.service.train({ algorithmId: 'pattern-matching', targetId: fx.target.id, overrideParams: small });
    expect(model.status).toBe(ModelStatus.QUEUED);
    expect(model.okImageCount).toBe(6);
    expect(model.ngImageCount).toBe(2);
    await collecting;
    await sub.return();

    const statuses = events.map((e) => e.status);
    expect(statuses[0]).toBe('QUEUED');
    expect(statuses.at(-1)).toBe('READY');
    expect(statuses).toContain('TRAINING');
    // QUEUED..., TRAINING..., READY: never back
    const order = { QUEUED: 0, TRAINING: 1, READY: 2 } as Record<string, number>;
    for (let i = 1; i < events.length; i++) {
      expect(order[events[i]!.status]!).toBeGreaterThanOrEqual(order[events[i - 1]!.status]!);
      expect(events[i]!.progress).toBeGreaterThanOrEqual(events[i - 1]!.progress);
    }
    const stages = events.map((e) => e.stage);
    expect(stages).toContain('loading');
    expect(stages.some((s) => s.startsWith('holdout'))).toBe(true);
    expect(events.at(-1)!.progress).toBe(1);

    const [ready] = await fx.store.modelsByIds([model.id]);
    expect(ready!.status).toBe('READY');
    expect(ready!.onnxBlob).toBeTruthy();
    expect(ready!.imageBlob).toBeTruthy();
    expect(ready!.predictParameters.threshold).toBeGreaterThan(0);
    expect(ready!.stats!.method).toMatch(/cross-validation/);
    expect(ready!.stats!.recall.computed).not.toBeNull();
    expect(ready!.trainingTime).toBeGreaterThan(0);
    expect(ready!.inputSpec).toMatchObject({ width: 48, height: 48, color: 'rgb' });

    const session = await ort.InferenceSession.create(await fx.store.blobs.get(ready!.onnxBlob!));
    expect(session.inputNames).toEqual(['images']);
    expect([...session.outputNames].sort()).toEqual(['anomaly_map', 'score']);
    await session.release();
  });

  it('refuses bad parameter overrides and too few OK pictures, storing nothing', async () => {
    fx = await trainingFixture();
    await fx.addTraining('plate', 3);
    const train = (overrideParams: { name?: string; parameterId?: string; value: string }[]) =>
      fx!.service.train({ algorithmId: 'pattern-matching', targetId: fx!.target.id, overrideParams });
    await expect(train([{ name: 'min_inspection_step', value: '500' }])).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: /at most 64/ });
    await expect(train([{ name: 'min_inspection_step', value: 'four' }])).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(train([{ name: 'no_such_param', value: '1' }])).rejects.toBeInstanceOf(AppError);
    await expect(train([{ parameterId: 'nope', value: '1' }])).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    // by parameter id, in range: accepted
    const [step] = (await fx.store.parametersByAlgorithmIds(['pattern-matching'])).filter((p) => p.name === 'min_inspection_step');
    const ok = await train([{ parameterId: step!.id, value: '8' }, ...small]);
    expect(ok.params.min_inspection_step).toBe('8');
    await fx.service.cancel(ok.id);

    const other = await fx.store.createTarget('empty', []);
    await expect(fx.service.train({ algorithmId: 'pattern-matching', targetId: other.id })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: /at least 2 OK/,
    });
    await expect(fx.service.train({ algorithmId: 'nope', targetId: other.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const models = await fx.store.listModels({}, { first: 10 });
    expect(models.totalCount).toBe(1);
  });

  it('cancels a running job and a queued one: both end CANCELLED without a model file', async () => {
    fx = await trainingFixture({ concurrency: 1 });
    // big enough that the first job is still running when the cancel arrives (about a second)
    await fx.addTraining('carpet', 16, { size: 128 });
    const big = [
      { name: 'input_size', value: '128' },
      { name: 'position_tolerance', value: '3' },
    ];
    const first = await fx.service.train({ algorithmId: 'pattern-matching', targetId: fx.target.id, overrideParams: big });
    const second = await fx.service.train({ algorithmId: 'pattern-matching', targetId: fx.target.id, overrideParams: big });
    await fx.waitFor(first.id, ['TRAINING']);
    expect((await fx.store.modelsByIds([second.id]))[0]!.status).toBe('QUEUED');
    const [c2, c1] = await Promise.all([fx.service.cancel(second.id), fx.service.cancel(first.id)]);
    for (const m of [c1, c2]) {
      expect(m.status).toBe('CANCELLED');
      expect(m.onnxBlob).toBeNull();
    }
    await expect(fx.service.cancel(first.id)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('re-runs a job a previous process left TRAINING, and fails one whose items vanished', async () => {
    fx = await trainingFixture();
    const items = await fx.addTraining('plate', 4);
    const left = await leftBehind(
      fx,
      'left behind',
      'TRAINING',
      items.map((i) => i.id),
    );
    await fx.store.updateModel(left.id, { progress: 0.4, stage: 'features' });
    const orphan = await leftBehind(fx, 'orphan', 'QUEUED', ['gone-1', 'gone-2']);
    const service = await fx.restart();
    await service.recover();
    const done = await fx.waitFor(left.id, ['READY', 'FAILED']);
    expect(done.status).toBe('READY');
    expect(done.onnxBlob).toBeTruthy();
    const failed = await fx.waitFor(orphan.id, ['READY', 'FAILED']);
    expect(failed.status).toBe('FAILED');
    expect(failed.statusText).toMatch(/no longer exist/);
  });

  it('a cancel made on another instance stops the job where it runs', async () => {
    fx = await trainingFixture();
    await fx.addTraining('carpet', 16, { size: 128 });
    const a = fx.service;
    const b = await fx.restart();
    const model = await a.train({ algorithmId: 'patch-sample', targetId: fx.target.id, overrideParams: [{ name: 'input_size', value: '128' }] });
    await fx.waitFor(model.id, ['TRAINING']);
    const cancelled = await b.cancel(model.id);
    expect(cancelled.status).toBe('CANCELLED');
    // A sees the event, stops its worker and leaves the model CANCELLED, without a model file
    await a.close();
    const [after] = await fx.store.modelsByIds([model.id]);
    expect(after!.status).toBe('CANCELLED');
    expect(after!.onnxBlob).toBeNull();
  });

  it('leaves a job whose owner holds a live lease alone, and takes it over once the lease lapses', async () => {
    fx = await trainingFixture({ leaseMs: 400 });
    const items = await fx.addTraining('plate', 4);
    const model = await leftBehind(
      fx,
      'elsewhere',
      'TRAINING',
      items.map((i) => i.id),
    );
    await fx.store.setSetting(`training-lease:${model.id}`, JSON.stringify({ owner: 'another-instance', until: Date.now() + 400 }));
    const service = await fx.restart();
    await service.recover();
    const [still] = await fx.store.modelsByIds([model.id]);
    expect(still!.status).toBe('TRAINING');
    expect(still!.statusText).toBeNull();
    // the owner never renews: the periodic sweep takes the job over and finishes it
    const done = await fx.waitFor(model.id, ['READY', 'FAILED']);
    expect(done.status).toBe('READY');
    expect(done.statusText).toBeNull();
  });
  it('a model deleted just as its training finishes leaves no model files behind', async () => {
    fx = await trainingFixture();
    await fx.addTraining('plate', 3);
    const store = fx.store;
    const updateModel = store.updateModel.bind(store);
    let written: string[] = [];
    let deleted!: () => void;
    const gone = new Promise<void>((r) => (deleted = r));
    // The user deletes the model between the job's last check and its READY write.
    store.updateModel = async (id, patch) => {
      if (patch.status === ModelStatus.READY) {
        written = [patch.onnxBlob!, patch.imageBlob!];
        await store.deleteModels([id]);
        deleted();
      }
      return updateModel(id, patch);
    };
    await fx.service.train({ algorithmId: 'pattern-matching', targetId: fx.target.id, overrideParams: small });
    await gone;
    await fx.service.close(); // waits for the job to end
    expect(written).toHaveLength(2);
    for (const key of written) expect(await store.blobs.has(key)).toBe(false);
  });
});
