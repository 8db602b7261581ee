// One pixveil node: the wiring of ingest, queue, pool and storage that `serve`, `api` and `worker` run.
import os from 'node:os';
import { checkPixelOps, jpegBlocks, pixelOps } from '../addon/index.js';
import { tuneAllocator } from '../addon/allocator.js';
import { Authenticator } from '../auth/authenticator.js';
import { createRateLimiter } from '../auth/rate-limit.js';
import type { Config } from '../config/config.js';
import { Admission } from '../ingest/admission.js';
import type { IngestContext } from '../ingest/context.js';
import { startHttpServer, type HttpServer } from '../ingest/server.js';
import { availableDetectors, configuredModels, defaultThresholds, knownManifests, presentModels } from '../models/configured.js';
import { checkExecutionProviders, checkProvidersStart, modelProviders } from '../models/execution-providers.js';
import { modelPath } from '../models/files.js';
import { ensureModels } from '../models/pull.js';
import { choiceFields, resolvePlateModel, type PlateModelChoice } from '../models/plate-precision.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { recordJobMetrics } from '../observability/record-job.js';
import { TenantThroughput } from '../observability/tenant-throughput.js';
import { ThroughputWindow } from '../observability/throughput.js';
import { decodeBudgetFromConfig } from '../pipeline/decode-budget.js';
import { poolOptionsFromConfig } from '../pool/pool-options.js';
import { ImagePool } from '../pool/image-pool.js';
import { JobRunner } from '../pool/job-runner.js';
import { createJobQueue } from '../queue/index.js';
import type { JobQueue } from '../queue/queue.js';
import { createObjectStore } from '../storage/index.js';
import { JobObjectSweeper } from '../storage/expiry.js';
import { redactUrl, SetupError, setupStep } from './setup-error.js';
import { WebhookDispatcher } from '../webhooks/dispatcher.js';
import { webhookSecretFor } from '../webhooks/secrets.js';
import { jobView } from '../ingest/views.js';
import type { ObjectStore } from '../storage/storage.js';
import { ffmpegProblem } from '../video/ffmpeg.js';
import { checkVideoUpload } from '../video/upload-check.js';
import { sweepDeadWorkersTemp, VideoJobs } from '../video/video-jobs.js';

export type Role = 'serve' | 'api' | 'worker';

export interface PixveilNode {
  role: Role;
  config: Config;
  port?: number;
  queue: JobQueue;
  store: ObjectStore;
  pool?: ImagePool;
  runner?: JobRunner;
  /** Stops taking work, finishes or releases jobs in hand within SHUTDOWN_GRACE_MS, closes everything. */
  close(): Promise<void>;
}

// Cap on waiting for pool tasks after the shutdown grace ran out (their jobs are already given up).
const POOL_DRAIN_MS = 5000;

async function poolIdle(pool: ImagePool, capMs: number): Promise<void> {
  const deadline = Date.now() + capMs;
  while (pool.inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

export async function startNode(config: Config, role: Role, log: Logger = createLogger(config.logLevel)): Promise<PixveilNode> {
  if (role !== 'serve' && !config.redisUrl) {
    throw new SetupError(`"pixveil ${role}" runs one half of a distributed deployment and needs REDIS_URL; use "pixveil serve" for a single process`);
  }
  // Settings errors first, before models are pulled or threads started.
  const auth = Authenticator.fromConfig(config);
  const manifests = knownManifests(config);
  // A GPU asked for and not there stops here in one line, never a silent CPU run.
  if (role !== 'api') {
    checkExecutionProviders(config.executionProviders);
    checkPixelOps();
  }
  // Before the pool allocates its first image buffers; the api role decodes nothing.
  const allocator = role === 'api' ? undefined : tuneAllocator(config.allocatorTuning);
  // Which plate model file runs (PLATE_MODEL_PRECISION and the CPU): PLATE_MODEL then names it for the pool.
  let plateChoice: PlateModelChoice | undefined;
  if (role !== 'api') {
    ({ config, choice: plateChoice } = await resolvePlateModel(config, manifests));
  }
  const models = configuredModels(config, manifests);
  const providers = role === 'api' ? [] : modelProviders(models, config.executionProviders);
  const metrics = createMetrics();
  metrics.up.set({ role }, 1);
  for (const p of providers) metrics.modelProvider.set({ kind: p.kind, model: p.model, provider: p.provider }, 1);

  if (role !== 'api') {
    await ensureModels(config.modelDir, presentModels(models), { pull: config.modelPullOnStart, progress: process.stderr, mirror: config.modelMirror || undefined });
    const first = models.objects ?? models.plates ?? models.faces;
    await checkProvidersStart(config.executionProviders, first && modelPath(config.modelDir, first));
  }
  const store = await setupStep(
    (reason) => `Storage ${config.s3Bucket ? `S3 bucket ${config.s3Bucket}` : `directory ${config.dataDir}`} is not usable: ${reason}`,
    async () => {
      const opened = await createObjectStore(config);
      await opened.check();
      return opened;
    },
  );
  const queue = await setupStep(
    (reason) => `Redis at ${redactUrl(config.redisUrl)} (REDIS_URL) cannot be used: ${reason}`,
    () => createJobQueue(config, log),
  ).catch(async (err) => {
    await store.close?.();
    throw err;
  });

  // Videos need ffmpeg here; without it the video routes answer 503 and images work as ever.
  const videoProblem = await ffmpegProblem({ ffmpeg: config.ffmpegPath, ffprobe: config.ffprobePath });
  if (videoProblem) log.warn('video jobs unavailable on this node', { reason: videoProblem });
  const videoLimits = { maxSeconds: config.maxVideoSeconds, maxPixels: config.maxVideoPixels };
  // Nodes that run jobs sweep when their VideoJobs starts; an API node removes dead nodes' unfinished uploads here.
  if (role === 'api') void sweepDeadWorkersTemp(config.videoTempDir || os.tmpdir());

  let pool: ImagePool | undefined;
  let runner: JobRunner | undefined;
  let webhooks: WebhookDispatcher | undefined;
  if (role !== 'api') {
    // Said once the node can start at all, so a set-up error stays the only line printed.
    if (plateChoice) log[plateChoice.fallback ? 'warn' : 'info']('plate model', choiceFields(plateChoice));
    pool = new ImagePool(poolOptionsFromConfig(config));
    await pool.warmUp();
    metrics.poolThreads.set(pool.threads);
    runner = new JobRunner(queue, store, pool, log, {
      keepOriginals: config.keepOriginals,
      claimBlockMs: config.claimBlockMs,
      errorBackoffMs: config.queueErrorBackoffMs,
      storageRetryMs: config.storageRetryMs,
      decodeBudget: decodeBudgetFromConfig(config),
      onJobFinished: (job) => recordJobMetrics(metrics, job),
      videos: videoProblem
        ? undefined
        : new VideoJobs({ ffmpeg: config.ffmpegPath, ffprobe: config.ffprobePath, timeoutSeconds: config.videoTimeoutSeconds, segmentSeconds: config.videoSegmentSeconds, segmentJobs: { queue, store }, frames: pool, tempDir: config.videoTempDir || undefined, ...videoLimits }),
    });
    runner.start();
    // Nodes that run jobs also send their webhooks; any such node may send any job's (leases, not ownership).
    webhooks = new WebhookDispatcher(queue, {
      view: jobView,
      secretFor: (tenant) => webhookSecretFor(config, tenant),
      onAttempt: (delivered) => metrics.webhookAttempts.inc({ outcome: delivered ? 'delivered' : 'error' }),
      allowPrivate: config.webhookAllowPrivate,
      timeoutMs: config.webhookTimeoutMs,
      policy: { maxAttempts: config.webhookMaxAttempts, retryBaseMs: config.webhookRetryBaseMs, maxDelayMs: config.webhookRetryMaxMs },
      pollMs: config.webhookPollMs,
      concurrency: config.webhookConcurrency,
      perTenantConcurrency: config.webhookTenantConcurrency,
      log: log.child({ component: 'webhooks' }),
    });
    webhooks.start();
  }

  // Every node sweeps (an API-only deployment has no worker); with Redis one node per interval does.
  const sweeper = new JobObjectSweeper({
    store,
    hasRecord: async (id) => (await queue.get(id)) !== undefined,
    ttlMs: config.jobTtlSeconds * 1000,
    intervalMs: config.storageSweepSeconds * 1000,
    claimRound: queue.claimRound && ((ms) => queue.claimRound!('storage-sweep', ms)),
    log: log.child({ component: 'storage-sweep' }),
  });
  sweeper.start();

  const throughput = new ThroughputWindow();
  const tenantThroughput = new TenantThroughput();
  queue.onFinished((job) => {
    const finishedAt = job.finishedAt ?? Date.now();
    const kind = job.kind === 'video' ? 'video' : 'image';
    throughput.record(finishedAt, finishedAt - job.createdAt, job.status === 'completed', kind);
    tenantThroughput.record(job.tenant, finishedAt, finishedAt - job.createdAt, job.status === 'completed', kind);
  });

  const admission = new Admission(queue, config, metrics, log, pool?.threads ?? 0);
  if (role !== 'worker') admission.start();

  const ctx: IngestContext = {
    config,
    queue,
    store,
    log,
    metrics,
    throughput,
    tenantThroughput,
    pool,
    role,
    startedAt: Date.now(),
    pixelOps: pixelOps.implementation,
    modelProviders: providers,
    plateModel: plateChoice,
    jpegBlocks: jpegBlocks.support,
    options: {
      available: availableDetectors(models),
      objectClasses: models.objects?.classes ?? [],
      defaultThresholds: defaultThresholds(models),
      defaultMetadata: config.keepMetadata,
    },
    extraReadiness: async (): Promise<Record<string, string>> => (pool ? { models: 'ok' } : {}),
    auth,
    admission,
    rateLimiter: createRateLimiter(config, log),
    video: { problem: videoProblem, check: (file) => checkVideoUpload(file, config.ffprobePath, videoLimits) },
  };
  // Worker nodes listen too, for probes and /metrics; they take no uploads.
  const server: HttpServer = await startHttpServer(ctx);
  log.info('pixveil listening', { url: `http://${config.host}:${server.port}`, role, queue: queue.kind, storage: store.description, pool_threads: pool?.threads ?? 0, pixel_ops: pixelOps.implementation, jpeg_blocks: jpegBlocks.support.available, ...(allocator ? { allocator: allocator.detail } : {}), ...(pool ? { thread_heap: pool.heap.detail } : {}) });
  if (config.auth === 'off' && !['127.0.0.1', 'localhost', '::1'].includes(config.host)) {
    log.warn('listening beyond localhost with AUTH=off: anyone who can reach this port can upload and read images');
  }

  let closing: Promise<void> | undefined;
  return {
    role,
    config,
    port: server.port,
    queue,
    store,
    pool,
    runner,
    close: () =>
      (closing ??= (async () => {
        server.close();
        admission.close();
        const left = (await runner?.stop(config.shutdownGraceMs)) ?? 0;
        if (left > 0) {
          // Left pending in the queue: other workers reclaim them after STALLED_MS.
          log.warn('shutdown grace ran out; unfinished jobs will be reclaimed by other workers', { jobs: left, stalled_ms: config.stalledMs });
        }
        // Terminating a thread mid-inference aborts the whole process (onnxruntime-node throws a
        // Napi::Error into the dying thread), so let the tasks already in the pool end first.
        if (pool && left > 0) await poolIdle(pool, POOL_DRAIN_MS);
        await pool?.close();
        await webhooks?.stop(Math.min(config.shutdownGraceMs, config.webhookTimeoutMs));
        await sweeper.stop();
        await queue.close();
        await store.close?.();
      })()),
  };
}
