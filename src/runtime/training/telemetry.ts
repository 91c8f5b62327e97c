import { type Context, context, type Span, trace } from '@opentelemetry/api';
import type { TrainingMetrics } from '../telemetry/metrics.ts';
import { tracer } from '../telemetry/tracing.ts';

/** How a training job ended, as `spectro_training_jobs_total` counts it. */
export type Outcome = 'ready' | 'failed' | 'cancelled' | 'interrupted' | 'deleted';

interface Tracked {
  algorithm: string;
  /** `training.job`: a child of the request that queued the job (trainModel), or a root (recovery). */
  job: Span;
  /** `training.wait`: the time in line, ended when the job starts or is dropped. */
  wait: Span | null;
  startedAt: number;
}

/**
 * The training queue's gauges, counters, durations and spans, kept per job from the moment it is
 * queued to its end, whether it ran or was dropped from the line.
 */
export function trainingTelemetry(metrics?: TrainingMetrics) {
  const jobs = new Map<string, Tracked>();
  const end = (id: string, outcome: Outcome) => {
    const t = jobs.get(id);
    if (!t) return;
    jobs.delete(id);
    t.wait?.end();
    t.job.end();
    metrics?.jobs.inc({ algorithm: t.algorithm, outcome });
  };
  return {
    /** A job joined the line (the active context becomes its span's parent). */
    queued(modelId: string, algorithm: string): void {
      if (jobs.has(modelId)) return;
      const attributes = { 'spectro.model.id': modelId, 'spectro.algorithm.id': algorithm };
      const job = tracer.startSpan('training.job', { attributes });
      const wait = tracer.startSpan('training.wait', {}, trace.setSpan(context.active(), job));
      jobs.set(modelId, { algorithm, job, wait, startedAt: 0 });
      metrics?.queued.inc();
    },
    /** It got its slot: the context to run it in (its job span active). */
    started(modelId: string, algorithm: string): Context {
      if (!jobs.has(modelId)) this.queued(modelId, algorithm); // queued elsewhere (a shared queue)
      const t = jobs.get(modelId)!;
      t.wait?.end();
      t.wait = null;
      t.startedAt = Date.now();
      metrics?.queued.dec();
      metrics?.running.inc();
      return trace.setSpan(context.active(), t.job);
    },
    /** It ran and ended so. */
    finished(modelId: string, outcome: Outcome): void {
      const t = jobs.get(modelId);
      if (!t) return;
      metrics?.running.dec();
      metrics?.duration.observe({ algorithm: t.algorithm, outcome }, (Date.now() - t.startedAt) / 1000);
      end(modelId, outcome);
    },
    /** It left the line without running (cancelled, or the service closed). */
    dropped(modelId: string, outcome: Outcome): void {
      if (!jobs.get(modelId)?.wait) return;
      metrics?.queued.dec();
      end(modelId, outcome);
    },
  };
}

export type TrainingTelemetry = ReturnType<typeof trainingTelemetry>;
