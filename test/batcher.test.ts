import { describe, expect, it } from 'vitest';
import { MicroBatcher } from '../src/runtime/inference/batcher.ts';
import { deferred } from './realtime-helpers.ts';

/**
 * The micro-batcher's rules, without the timing of real decodes (test/inference.test.ts runs it
 * with the model): an idle model runs a lone item at once; what arrives while a run is in flight
 * forms the next batch, up to the cap, in order.
 */
describe('the micro-batcher', () => {
  const options = { maxBatchSize: 4, maxQueueDelayMs: 60_000, maxInflight: 1, enabled: true, eagerWhenIdle: true };

  it('runs a lone item at once and gathers what arrives during a run into the next batches, at most the cap', async () => {
    const runs: number[][] = [];
    // Run n starts (started[n] resolves), then waits until gates[n] is resolved.
    const started = [deferred(), deferred(), deferred()];
    const gates = [deferred(), deferred(), deferred()];
    const batcher = new MicroBatcher<number, number>(async (inputs) => {
      const n = runs.push(inputs) - 1;
      started[n]!.resolve();
      await gates[n]!.promise;
      return inputs.map((x) => x * 10);
    }, options);
    const first = batcher.submit(0);
    expect(runs).toEqual([[0]]); // idle: no waiting for company
    const rest = [1, 2, 3, 4, 5, 6].map((x) => batcher.submit(x));
    expect(runs).toHaveLength(1); // the slot is taken: they queue
    gates[0]!.resolve();
    expect(await first).toBe(0);
    await started[1]!.promise;
    expect(runs).toEqual([[0], [1, 2, 3, 4]]);
    gates[1]!.resolve();
    await started[2]!.promise;
    expect(runs).toEqual([[0], [1, 2, 3, 4], [5, 6]]);
    gates[2]!.resolve();
    expect(await Promise.all(rest)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('runs every item on its own when batching is off', async () => {
    const runs: number[][] = [];
    const batcher = new MicroBatcher<number, number>(async (inputs) => (runs.push(inputs), inputs), { ...options, enabled: false });
    expect(await Promise.all([1, 2, 3].map((x) => batcher.submit(x)))).toEqual([1, 2, 3]);
    expect(runs).toEqual([[1], [2], [3]]);
  });

  it('fails the items of a run that fails, and refuses new ones once closed', async () => {
    const batcher = new MicroBatcher<number, number>(async () => {
      throw new Error('session gone');
    }, options);
    await expect(batcher.submit(1)).rejects.toThrow('session gone');
    batcher.close();
    await expect(batcher.submit(2)).rejects.toThrow('the model was unloaded');
  });
});
