import type { Authenticator } from '../auth/authenticator.js';
import type { RateLimiter } from '../auth/rate-limit.js';
import type { Config } from '../config/config.js';
import type { PlateModelChoice } from '../models/plate-precision.js';
import type { Logger } from '../observability/logger.js';
import type { ModelProvider } from '../models/execution-providers.js';
import type { Metrics } from '../observability/metrics.js';
import type { TenantThroughput } from '../observability/tenant-throughput.js';
import type { ThroughputWindow } from '../observability/throughput.js';
import type { ImagePool } from '../pool/image-pool.js';
import type { JobQueue } from '../queue/queue.js';
import type { ObjectStore } from '../storage/storage.js';
import type { Admission } from './admission.js';
import type { OptionContext } from './options.js';

/** What the HTTP and WebSocket handlers need from the rest of the node. */
export interface IngestContext {
  config: Config;
  queue: JobQueue;
  store: ObjectStore;
  log: Logger;
  metrics: Metrics;
  throughput: ThroughputWindow;
  /** The same per tenant, for tenants that may see only their own numbers. */
  tenantThroughput: TenantThroughput;
  options: OptionContext;
  /** Present when this node also runs workers (serve); absent on an `api` node. */
  pool?: ImagePool;
  role: 'serve' | 'api' | 'worker';
  startedAt: number;
  pixelOps: string;
  /** The models this node's pool runs and their execution providers (empty on an api node). */
  modelProviders: ModelProvider[];
  /** Which plate model file this node runs and why (PLATE_MODEL_PRECISION); absent on api nodes. */
  plateModel?: PlateModelChoice;
  /** Whether JPEG output keeps untouched blocks (libjpeg-turbo in the addon), and if not why. */
  jpegBlocks?: { available: boolean; detail: string };
  /** Readiness beyond queue and store (models loaded on a serve node). */
  extraReadiness: () => Promise<Record<string, string>>;
  /** AUTH=on: who is calling (API key or JWT); AUTH=off: everyone is the anonymous tenant. */
  auth: Authenticator;
  /** Latency-aware admission (LATENCY_SLO_SECONDS) over cluster-wide backlog and drain rate. */
  admission: Admission;
  /** Per-tenant request budget; closed with the HTTP server. */
  rateLimiter: RateLimiter;
  /**
   * Video uploads: `problem` says why this node cannot take them (ffmpeg missing; the video routes
   * answer 503 VIDEO_UNAVAILABLE), `check` probes an upload's file and applies the video limits.
   */
  video?: { problem?: string; check(file: string): Promise<unknown> };
}
