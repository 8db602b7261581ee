import type { Job } from '../job.js';

const iso = (ms?: number) => (ms === undefined ? null : new Date(ms).toISOString());

/** GET /v1/jobs/:id */
export function jobView(job: Job) {
  const r = job.result;
  return {
    job_id: job.id,
    status: job.status,
    created_at: iso(job.createdAt),
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    attempts: job.attempts,
    input: { filename: job.input.filename, bytes: job.input.bytes, format: job.input.format },
    options: job.options,
    status_url: `/v1/jobs/${job.id}`,
    result_url: job.status === 'completed' ? `/v1/jobs/${job.id}/result` : null,
    result: r
      ? {
          width: r.width,
          height: r.height,
          format: r.format,
          processed_key: r.processedKey,
          metadata_key: r.metadataKey,
          models: r.models,
          total_ms: r.totalMs,
          timings_ms: r.timings,
          detections: r.detections,
        }
      : null,
    error: job.error ?? null,
  };
}

/** The seed service's /status/{id} shape, kept for its clients. */
export function seedStatusView(job: Job) {
  const r = job.result;
  const blurred = r?.detections.filter((d) => d.blurred) ?? [];
  return {
    job_id: job.id,
    status: job.status,
    filename: job.input.filename,
    file_size: job.input.bytes,
    created_at: iso(job.createdAt),
    completed_at: iso(job.finishedAt),
    results: r
      ? {
          original_image_path: job.input.key,
          processed_image_path: r.processedKey,
          processing_time: r.totalMs / 1000,
          blur_metadata: {
            faces_blurred: blurred.filter((d) => d.kind === 'face').length,
            plates_blurred: blurred.filter((d) => d.kind === 'plate').length,
            regions: blurred.map((d) => ({ kind: d.kind, box: d.blurBox ?? d.box, method: job.options.blur })),
          },
          detection_metadata: { detections: r.detections, total: r.detections.length },
        }
      : null,
    error: job.error?.message ?? null,
  };
}
