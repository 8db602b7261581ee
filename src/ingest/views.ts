import type { Job } from '../job.js';

const iso = (ms?: number) => (ms === undefined ? null : new Date(ms).toISOString());

/** GET /v1/jobs/:id */
export function jobView(job: Job) {
  const r = job.result;
  return {
    job_id: job.id,
    kind: job.kind ?? 'image',
    status: job.status,
    // Video jobs: frames written of the input's, while it runs (and as it ended).
    progress: job.progress ? { frames_done: job.progress.framesDone, frames_total: job.progress.framesTotal } : null,
    // Segment jobs are internal: their parent video is named so a reader can tell them apart.
    segment_of: job.segment ? { job_id: job.segment.parentId, index: job.segment.index } : null,
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
          ...(r.video ? { video: { frames: r.video.frames, fps: r.video.fps, duration_seconds: r.video.durationSeconds, audio_streams: r.video.audioStreams, tracks: r.video.tracks, detect_every: r.video.detectEvery } } : {}),
        }
      : null,
    error: job.error ?? null,
    webhook: job.callback
      ? {
          url: job.callback.url,
          // `waiting`: the job has not finished yet, so nothing was sent.
          status: job.webhook?.status ?? 'waiting',
          event: job.webhook?.event ?? null,
          delivery_id: job.webhook?.deliveryId ?? null,
          attempts: job.webhook?.attempts ?? 0,
          last_error: job.webhook?.lastError ?? null,
        }
      : null,
  };
}

/** The unversioned /status/{id} shape (the seed service's, kept for its clients). */
export function unversionedStatusView(job: Job) {
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

/** 202 to POST /v1/images. */
export function acceptedView(job: Job) {
  return { job_id: job.id, status: job.status, status_url: `/v1/jobs/${job.id}`, result_url: `/v1/jobs/${job.id}/result` };
}

/** The seed's shape for /upload. */
export function unversionedAcceptedView(job: Job) {
  return { job_id: job.id, filename: job.input.filename, file_size: job.input.bytes, status: job.status, message: 'Image queued for processing' };
}

export type AcceptedView = (job: Job) => object;

/** How a batch answer reads: one entry per accepted file, then the whole body. */
export interface BatchView {
  entry(job: Job): object;
  body(entries: object[], accepted: number): object;
}

export const batchView: BatchView = {
  entry: (job) => ({ filename: job.input.filename, ...acceptedView(job) }),
  body: (entries, accepted) => ({ jobs: entries, accepted, rejected: entries.length - accepted }),
};

export const unversionedBatchView: BatchView = {
  entry: unversionedAcceptedView,
  body: (entries, accepted) => ({ jobs: entries, total: entries.length, accepted, message: `${accepted} image(s) queued for processing` }),
};

export interface StatsBody {
  jobs_finished: number;
  latency_ms: { p50: number | null };
  queue: { depth?: number } | object;
  [field: string]: unknown;
}

export interface QueueBody {
  depth?: number;
  pool?: { threads: number } | null;
  [field: string]: unknown;
}

export const statsView = (body: StatsBody) => body;
export const queueView = (body: QueueBody) => body;

/** The seed's /stats used these top-level names. */
export function unversionedStatsView(body: StatsBody) {
  const p50 = body.latency_ms.p50;
  return { ...body, total_processed: body.jobs_finished, queue_size: 'depth' in body.queue ? body.queue.depth : null, average_processing_time: p50 === null ? null : p50 / 1000 };
}

export function unversionedQueueView(body: QueueBody) {
  return { ...body, queue_size: body.depth ?? null, active_workers: body.pool?.threads ?? 0 };
}
