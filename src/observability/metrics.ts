import client from 'prom-client';

// Names and units are part of pixveil's interface: dashboards and alerts in monitoring/ use them.
export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'pixveil_process_' });
  const latencyBuckets = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  return {
    registry,
    uploads: new client.Counter({ name: 'pixveil_uploads_total', help: 'Upload requests by outcome (accepted or an error code)', labelNames: ['outcome'], registers: [registry] }),
    uploadBytes: new client.Histogram({ name: 'pixveil_upload_bytes', help: 'Size of accepted uploads in bytes', buckets: [1e4, 1e5, 5e5, 1e6, 5e6, 2e7, 5e7], registers: [registry] }),
    httpRequests: new client.Counter({ name: 'pixveil_http_requests_total', help: 'HTTP requests by route and status code', labelNames: ['route', 'status'], registers: [registry] }),
    jobsFinished: new client.Counter({ name: 'pixveil_jobs_finished_total', help: 'Jobs finished, by status (completed or failed)', labelNames: ['status'], registers: [registry] }),
    jobFailures: new client.Counter({ name: 'pixveil_job_failures_total', help: 'Failed jobs by error code', labelNames: ['code'], registers: [registry] }),
    jobDuration: new client.Histogram({ name: 'pixveil_job_duration_seconds', help: 'Upload accepted to job finished, seconds', buckets: latencyBuckets, registers: [registry] }),
    stageDuration: new client.Histogram({ name: 'pixveil_stage_duration_seconds', help: 'Time per pipeline stage, seconds', labelNames: ['stage'], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5], registers: [registry] }),
    detections: new client.Counter({ name: 'pixveil_detections_total', help: 'Detections by kind (face, plate, object)', labelNames: ['kind'], registers: [registry] }),
    webhookAttempts: new client.Counter({ name: 'pixveil_webhook_attempts_total', help: 'Webhook delivery attempts by outcome (delivered: a 2xx; error: anything else, retried until WEBHOOK_MAX_ATTEMPTS)', labelNames: ['outcome'], registers: [registry] }),
    queueJobs: new client.Gauge({ name: 'pixveil_queue_jobs', help: 'Jobs in the queue by state (waiting, processing, dead_letter), cluster-wide', labelNames: ['state'], registers: [registry] }),
    predictedWait: new client.Gauge({ name: 'pixveil_admission_predicted_wait_seconds', help: 'How long a job accepted now would wait: backlog over the cluster drain rate, or the next job in line\'s wait when longer (-1: unknown, nothing drains)', registers: [registry] }),
    drainRate: new client.Gauge({ name: 'pixveil_admission_drain_rate', help: 'Jobs finished per second cluster-wide while work was waiting (or the prior before that), used by admission', registers: [registry] }),
    queueConsumers: new client.Gauge({ name: 'pixveil_queue_consumers', help: 'Worker processes consuming the queue', registers: [registry] }),
    poolUtilization: new client.Gauge({ name: 'pixveil_pool_utilization_ratio', help: 'Share of this node\'s pool task slots in use, 0..1', registers: [registry] }),
    modelProvider: new client.Gauge({ name: 'pixveil_model_provider_info', help: 'Always 1: a model this node runs (kind, model) and the onnxruntime execution provider it runs on', labelNames: ['kind', 'model', 'provider'], registers: [registry] }),
    poolThreads: new client.Gauge({ name: 'pixveil_pool_threads', help: 'Pool threads on this node', registers: [registry] }),
    up: new client.Gauge({ name: 'pixveil_up', help: '1 while this node runs, by role', labelNames: ['role'], registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
