import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every Prometheus metric the gateway exports, in one place (deploy/grafana-dashboard.json and
 * README "Operations" name them). One registry per server, so that two gateways in one process
 * (the tests) count apart. Engines record what only they can see (inference timings measured in
 * the worker threads, training jobs); the HTTP, GraphQL, upload, subscription, pub/sub and store
 * figures are recorded from outside them (src/observability/).
 *
 * Labels stay bounded: `model` is a model id (a deployment has tens of models, not thousands),
 * `route` a normalised path, `operation` a store method or a GraphQL operation name.
 */
export function createMetrics(registry: Registry = new Registry()) {
  const registers = [registry];
  // process_* and nodejs_* (CPU, memory, event-loop lag, GC): the usual Node.js dashboards read them.
  collectDefaultMetrics({ register: registry });
  /** Figures read from elsewhere (pub/sub counters, health) are copied in right before each scrape. */
  const collectors: (() => void | Promise<void>)[] = [];
  const seconds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  return {
    registry,
    http: {
      requests: new Counter({
        name: 'spectro_http_requests_total',
        help: 'HTTP requests answered, by method, normalised route and status code',
        labelNames: ['method', 'route', 'status'] as const,
        registers,
      }),
      duration: new Histogram({
        name: 'spectro_http_request_duration_seconds',
        help: 'Time from an HTTP request to its response head (an SSE stream is counted until it starts)',
        labelNames: ['method', 'route'] as const,
        buckets: seconds,
        registers,
      }),
      inFlight: new Gauge({ name: 'spectro_http_requests_in_flight', help: 'HTTP requests being handled now', registers }),
    },
    uploads: {
      files: new Counter({ name: 'spectro_upload_files_total', help: 'Uploaded files accepted (multipart GraphQL and REST)', registers }),
      bytes: new Counter({ name: 'spectro_upload_bytes_total', help: 'Bytes of the uploaded files accepted', registers }),
      rejects: new Counter({
        name: 'spectro_upload_rejects_total',
        help: 'Upload requests refused, by reason (the error code, or body_too_large / csrf / disk_full)',
        labelNames: ['reason'] as const,
        registers,
      }),
    },
    inference: {
      pictures: new Counter({
        name: 'spectro_inference_pictures_total',
        help: 'Pictures judged, by model and result (GOOD / BAD)',
        labelNames: ['model', 'result'] as const,
        registers,
      }),
      queueWait: new Histogram({
        name: 'spectro_inference_queue_wait_seconds',
        help: 'Time a decoded picture waited in the micro-batcher before its batch ran',
        labelNames: ['model'] as const,
        buckets: seconds,
        registers,
      }),
      decode: new Histogram({
        name: 'spectro_inference_decode_seconds',
        help: 'Time to read and decode one picture into the model input (inference worker thread)',
        labelNames: ['model'] as const,
        buckets: seconds,
        registers,
      }),
      run: new Histogram({
        name: 'spectro_inference_run_seconds',
        help: 'onnxruntime session.run time of one batch (session worker thread)',
        labelNames: ['model'] as const,
        buckets: seconds,
        registers,
      }),
      batchSize: new Histogram({
        name: 'spectro_inference_batch_size',
        help: 'Pictures per session.run',
        labelNames: ['model'] as const,
        buckets: [1, 2, 4, 8, 16, 32, 64, 128],
        registers,
      }),
      postprocess: new Histogram({
        name: 'spectro_inference_postprocess_seconds',
        help: 'Judging one picture from its anomaly map on the main thread: regions, boxes, verdict',
        labelNames: ['model'] as const,
        buckets: seconds,
        registers,
      }),
      decodes: new Counter({
        name: 'spectro_inference_decodes_total',
        help: 'Pictures decoded, by model and thread: inline (on the pipeline worker, the pool being idle: DECODE_INLINE) or pool',
        labelNames: ['model', 'thread'] as const,
        registers,
      }),
      stage: new Histogram({
        name: 'spectro_inference_stage_seconds',
        help:
          'Main-thread stages of a prediction, by model and stage: pipeline (the round trip to the worker threads: decode, batch wait, run ' +
          'and the thread hops), publish (predictionResult), predict (a synchronous predict in the inference service, lookup to publish)',
        labelNames: ['model', 'stage'] as const,
        buckets: [0.0005, ...seconds],
        registers,
      }),
      admissionDepth: new Gauge({
        name: 'spectro_inference_admission_queue_depth',
        help: 'Pictures of synchronous predictions waiting for their turn, by model (admission queue)',
        labelNames: ['model'] as const,
        registers,
      }),
      admissionWait: new Histogram({
        name: 'spectro_inference_admission_wait_seconds',
        help: 'Time a picture waited in the admission queue before it was handed to the pipeline',
        labelNames: ['model'] as const,
        buckets: seconds,
        registers,
      }),
      admissionRejects: new Counter({
        name: 'spectro_inference_admission_rejects_total',
        help: 'Synchronous predictions refused (UNAVAILABLE / 429): queue_full or deadline',
        labelNames: ['model', 'reason'] as const,
        registers,
      }),
      failures: new Counter({
        name: 'spectro_inference_failures_total',
        help: 'Pictures whose inference failed, by model',
        labelNames: ['model'] as const,
        registers,
      }),
    },
    training: {
      queued: new Gauge({ name: 'spectro_training_jobs_queued', help: 'Training jobs waiting for a slot', registers }),
      running: new Gauge({ name: 'spectro_training_jobs_running', help: 'Training jobs running in worker threads', registers }),
      jobs: new Counter({
        name: 'spectro_training_jobs_total',
        help: 'Training jobs ended, by algorithm and outcome (ready, failed, cancelled, interrupted)',
        labelNames: ['algorithm', 'outcome'] as const,
        registers,
      }),
      duration: new Histogram({
        name: 'spectro_training_duration_seconds',
        help: 'Time from a job getting its slot to its end, by algorithm and outcome',
        labelNames: ['algorithm', 'outcome'] as const,
        buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
        registers,
      }),
    },
    subscriptions: {
      dropped: new Counter({
        name: 'spectro_subscription_events_dropped_total',
        help: 'Events a slow subscriber missed (drop-oldest buffer policy: it gets the latest state)',
        registers,
      }),
      slowConsumerCloses: new Counter({
        name: 'spectro_subscription_slow_consumer_closes_total',
        help: 'Subscriptions ended for reading too slowly: event_buffer (buffer overflow) or socket_buffer (WebSocket send buffer)',
        labelNames: ['reason'] as const,
        registers,
      }),
      open: new Gauge({
        name: 'spectro_subscriptions_open',
        help: 'Subscription streams open now, by field and transport (ws, sse)',
        labelNames: ['field', 'transport'] as const,
        registers,
      }),
      delivered: new Counter({
        name: 'spectro_subscription_events_delivered_total',
        help: 'Subscription events sent to clients, by field and transport',
        labelNames: ['field', 'transport'] as const,
        registers,
      }),
    },
    pubsub: {
      published: new Counter({
        name: 'spectro_pubsub_published_total',
        help: 'Events published, by topic',
        labelNames: ['topic'] as const,
        registers,
      }),
      publishFailures: new Counter({
        name: 'spectro_pubsub_publish_failures_total',
        help: 'Publishes that could not reach Redis (delivered only within this instance)',
        registers,
      }),
      up: new Gauge({
        name: 'spectro_pubsub_up',
        help: '1 when the pub/sub transport delivers events and answers a ping in time, else 0',
        labelNames: ['transport'] as const,
        registers,
      }),
      pingSeconds: new Gauge({
        name: 'spectro_pubsub_ping_seconds',
        help: 'Round trip of a ping to the pub/sub transport at the last scrape (Redis: both connections)',
        labelNames: ['transport'] as const,
        registers,
      }),
      subscribers: new Gauge({ name: 'spectro_pubsub_subscribers', help: 'Local pub/sub subscriptions open', registers }),
      channels: new Gauge({ name: 'spectro_pubsub_channels', help: 'Channels and patterns held on the transport', registers }),
    },
    store: {
      duration: new Histogram({
        name: 'spectro_store_operation_duration_seconds',
        help: 'Latency of store operations (database and blob files), by operation',
        labelNames: ['operation'] as const,
        buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
        registers,
      }),
      errors: new Counter({
        name: 'spectro_store_errors_total',
        help: 'Store operations that failed, by operation (expected refusals such as NOT_FOUND included)',
        labelNames: ['operation'] as const,
        registers,
      }),
    },
    /** Runs before each scrape; for figures that live elsewhere. */
    onScrape(collect: () => void | Promise<void>): void {
      collectors.push(collect);
    },
    /** The Prometheus text exposition, collectors run first. */
    async scrape(): Promise<string> {
      await Promise.all(collectors.map((c) => c()));
      return registry.metrics();
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
export type InferenceMetrics = Metrics['inference'];
export type TrainingMetrics = Metrics['training'];
