import type { Job } from '../job.js';
import type { Metrics } from './metrics.js';

/** Prometheus figures for a job this node processed (each job is counted by one node only). */
export function recordJobMetrics(metrics: Metrics, job: Job): void {
  // A segment job is part of its video, which is counted (with the segments' stage timings summed) when it finishes.
  if (job.segment) return;
  metrics.jobsFinished.inc({ status: job.status });
  if (job.status === 'failed') metrics.jobFailures.inc({ code: job.error?.code ?? 'UNKNOWN' });
  if (job.finishedAt) metrics.jobDuration.observe((job.finishedAt - job.createdAt) / 1000);
  for (const [stage, ms] of Object.entries(job.result?.timings ?? {})) metrics.stageDuration.observe({ stage }, ms / 1000);
  for (const d of job.result?.detections ?? []) metrics.detections.inc({ kind: d.kind });
}
