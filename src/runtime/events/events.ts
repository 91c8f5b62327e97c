import type { PubSub } from '../pubsub/pubsub.ts';
import type { Store } from '../store/store.ts';
import { WebhookEvent, type ModelRecord, type TargetRecord } from '../store/types.ts';

/**
 * The events pushed to the line (webhooks and MQTT), made from the pub/sub topics the engines
 * already publish: an assessment stored (PREDICTION_RESULT), a training that ended
 * (TRAINING_FINISHED: READY, FAILED or CANCELLED), a model made active (MODEL_ACTIVATED).
 * The payload (`data`) is documented in docs/integration.md and in the OpenAPI document's
 * `webhooks`; it is read from the store only when a consumer asks for it.
 */
export interface IntegrationEvent {
  event: WebhookEvent;
  /** Identifies the event: the same event seen twice (several instances) has the same key. */
  key: string;
  targetId: string;
  modelId: string;
  /** When it happened (ISO 8601). */
  at: string;
  target(): Promise<TargetRecord | null>;
  /** The documented payload; null when its records are gone (deleted meanwhile). */
  data(): Promise<EventData | null>;
}

export type EventData = Record<string, unknown>;

export type EventHandler = (event: IntegrationEvent) => Promise<void>;

export interface IntegrationEvents {
  /** Calls `handler` for every event, one at a time and in order per topic. */
  on(handler: EventHandler): void;
  /** Resolves once the topics are subscribed. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

interface Logger {
  warn(obj: unknown, msg?: string): void;
}

const once = <T>(load: () => Promise<T>) => {
  let p: Promise<T> | null = null;
  return () => (p ??= load());
};

export const targetData = (t: TargetRecord) => ({ target_id: t.key, id: t.id, name: t.name });

export const modelData = (m: ModelRecord) => ({
  model_id: m.id,
  name: m.name,
  version: m.version,
  status: m.status,
  status_text: m.statusText,
  active: m.active,
  algorithm_id: m.algorithmId,
  training_time: m.trainingTime === null ? null : Math.round(m.trainingTime),
  ok_img_count: m.okImageCount,
  ng_img_count: m.ngImageCount,
  stats: m.stats ? { accuracy: m.stats.accuracy, precision: m.stats.precision, recall: m.stats.recall } : null,
  predict_parameters: {
    threshold: m.predictParameters.threshold,
    ignore_outer: m.predictParameters.ignoreOuter,
    min_detected_area: m.predictParameters.minDetectedArea,
  },
});

const TERMINAL = new Set(['READY', 'FAILED', 'CANCELLED']);

export function createIntegrationEvents({ pubsub, store, log }: { pubsub: PubSub; store: Store; log: Logger }): IntegrationEvents {
  const handlers: EventHandler[] = [];
  const dispatch = async (event: IntegrationEvent) => {
    for (const handler of handlers) {
      try {
        await handler(event);
      } catch (err) {
        log.warn({ err, event: event.event, key: event.key }, 'events: a consumer failed');
      }
    }
  };
  const targetOf = (id: string) => once(async () => (await store.targetsByIds([id]))[0] ?? null);
  const modelOf = (id: string) => once(async () => (await store.modelsByIds([id]))[0] ?? null);

  // Internal consumers keep up with the engines (a store write per event at most), but a burst of
  // predictions must not end the subscription: a far larger buffer than a client's.
  const options = { bufferSize: 100_000 };
  const predictions = pubsub.subscribe('predictionResult', null, options);
  const trainings = pubsub.subscribe('trainingProgress', null, { ...options, overflow: 'error' as const });
  const activations = pubsub.subscribe('modelActivated', null, options);

  const loops = [
    (async () => {
      for await (const p of predictions) {
        const target = targetOf(p.targetId);
        const model = modelOf(p.modelId);
        await dispatch({
          event: WebhookEvent.PREDICTION_RESULT,
          key: `prediction:${p.assessmentId}`,
          targetId: p.targetId,
          modelId: p.modelId,
          at: p.at,
          target,
          data: once(async () => {
            const [[assessment], [item], boxes, t, m] = await Promise.all([
              store.assessmentsByIds([p.assessmentId]),
              store.itemsByIds([p.itemId]),
              store.annotationsByOwners('assessment', [p.assessmentId]),
              target(),
              model(),
            ]);
            if (!assessment || !item || !t || !m) return null;
            return {
              target: targetData(t),
              model: { model_id: m.id, name: m.name, version: m.version },
              item: { item_id: item.id, name: item.name, is_training_data: item.type === 'TRAINING' },
              assessment: {
                assessment_id: assessment.id,
                result: assessment.result,
                score: assessment.score,
                threshold: assessment.threshold,
                detected_objects: assessment.detectedObjects,
                detection_accuracy: assessment.detectionAccuracy === null ? null : Math.round(assessment.detectionAccuracy),
                boxes: boxes.map((b) => ({ x_min: b.xMin, y_min: b.yMin, x_max: b.xMax, y_max: b.yMax, score: b.score })),
                created_at: assessment.createdAt,
              },
            };
          }),
        });
      }
    })(),
    (async () => {
      for await (const p of trainings) {
        if (!TERMINAL.has(p.status)) continue;
        const model = modelOf(p.modelId);
        const m = await model();
        if (!m) continue;
        const target = targetOf(m.targetId);
        await dispatch({
          event: WebhookEvent.TRAINING_FINISHED,
          key: `training:${p.modelId}:${p.status}`,
          targetId: m.targetId,
          modelId: m.id,
          at: p.at,
          target,
          data: once(async () => {
            const t = await target();
            return t ? { target: targetData(t), model: { ...modelData(m), status: p.status } } : null;
          }),
        });
      }
    })(),
    (async () => {
      for await (const p of activations) {
        const target = targetOf(p.targetId);
        const model = modelOf(p.modelId);
        await dispatch({
          event: WebhookEvent.MODEL_ACTIVATED,
          key: `activated:${p.modelId}:${p.at}`,
          targetId: p.targetId,
          modelId: p.modelId,
          at: p.at,
          target,
          data: once(async () => {
            const [t, m] = await Promise.all([target(), model()]);
            return t && m ? { target: targetData(t), model: modelData(m) } : null;
          }),
        });
      }
    })(),
  ].map((loop) => loop.catch((err) => log.warn({ err }, 'events: a topic ended with an error')));

  return {
    on: (handler) => void handlers.push(handler),
    ready: Promise.all([predictions.ready, trainings.ready, activations.ready]).then(() => undefined),
    async close() {
      await Promise.all([predictions.return(), trainings.return(), activations.return()]);
      await Promise.all(loops);
    },
  };
}
