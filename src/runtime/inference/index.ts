import type { Config } from '../../config.ts';
import type { PubSub } from '../pubsub/pubsub.ts';
import type { Store } from '../store/store.ts';
import type { InferenceMetrics } from '../telemetry/metrics.ts';
import { ModelStatus } from '../store/types.ts';
import type { InferenceService } from './inference.ts';
import { OnnxInferenceService } from './service.ts';
import { chooseProvider, type Logger } from './sessions.ts';

export type { InferenceService } from './inference.ts';

export interface InferenceDeps {
  store: Store;
  pubsub: PubSub;
  config: Config;
  log: Logger;
  /** Unused by the runtime itself; accepted so the server can hand every engine the same deps. */
  urls?: unknown;
  metrics?: InferenceMetrics;
}

/**
 * Starts the inference runtime: picks the execution provider (logged), then in the background
 * warms the active model of every target and every model that becomes READY.
 */
export async function createInferenceService(deps: InferenceDeps): Promise<InferenceService> {
  const provider = await chooseProvider(deps.config.executionProvider, deps.log);
  const service = new OnnxInferenceService({ ...deps, provider });
  const { store, log } = deps;
  // Start the worker threads now (they take ~0.4 s to load onnxruntime and sharp): the first
  // prediction does not pay for it, and /readiness finds them answering from the start.
  void service.ping(60_000);

  const warm = (modelId: string) =>
    store
      .modelsByIds([modelId])
      .then(([m]) => (m && m.status === ModelStatus.READY && m.onnxBlob ? service.warmUp(m) : undefined))
      .catch((err) => log.warn({ err, modelId }, 'inference: warm-up failed'));

  void (async () => {
    const targets = await store.listTargets();
    for (const t of targets) {
      const m = await store.activeModel(t.id);
      if (m) await warm(m.id);
    }
  })().catch((err) => log.warn({ err }, 'inference: warm-up of active models failed'));

  const events = deps.pubsub.subscribe('trainingProgress');
  void (async () => {
    for await (const e of events) if (e.status === ModelStatus.READY) void warm(e.modelId);
  })().catch((err) => log.warn({ err }, 'inference: warm-up listener stopped'));

  const close = service.close.bind(service);
  service.close = async () => {
    await events.return?.();
    await close();
  };
  return service;
}
