// What the OpenAPI document says about each route of the route table (server.ts), by route name.
// A route without an entry here stops the document from being built, so none goes undocumented.
import type { Json, RouteDoc } from './openapi.js';

const common = {
  '401': ['AUTH=on and no valid credentials', 'Error'],
  '429': ['Rate limit (RATE_LIMIT_PER_MINUTE) or failed-auth throttle', 'Error'],
} as const;
const jobNotFound = ['No such job, or another tenant\'s', 'Error'] as const;
const seedBody = (description: string) => ({ 'application/json': { schema: { type: 'object', additionalProperties: true, description } } });

const upload = {
  '400': ['A bad option (INVALID_OPTION), an empty body, a malformed multipart body', 'Error'],
  '413': ['Over MAX_UPLOAD_BYTES (PAYLOAD_TOO_LARGE)', 'Error'],
  '415': ['Not JPEG, PNG or WebP (UNSUPPORTED_MEDIA_TYPE)', 'Error'],
  '503': ['Queue or storage unavailable, or the upload budget is full', 'Error'],
  ...common,
} as const;

const videoUpload = {
  ...upload,
  '413': ['Over MAX_VIDEO_BYTES (PAYLOAD_TOO_LARGE)', 'Error'],
  '415': ['Not MP4/MOV, Matroska/WebM or MPEG-TS (UNSUPPORTED_MEDIA_TYPE)', 'Error'],
  '422': ['Not a usable video: UNDECODABLE_VIDEO, NO_VIDEO_STREAM (audio only, zero frames), VIDEO_TOO_LONG (MAX_VIDEO_SECONDS), VIDEO_TOO_LARGE (MAX_VIDEO_PIXELS), TOO_MANY_STREAMS', 'Error'],
  '503': ['No ffmpeg on this server (VIDEO_UNAVAILABLE), or queue or storage unavailable, or the upload budget is full', 'Error'],
} as const;

export const ROUTE_DOCS: Record<string, RouteDoc> = {
  videos: {
    summary: 'Upload one video',
    description: 'Anonymized frame by frame (detection every detect_every frames, a tracker keeping each face and plate blurred through short misses), written as H.264 at the same size, rate and frame count with the audio copied; GET /v1/jobs/{id} shows progress while it runs, /result returns the video.',
    tag: 'videos',
    videoOptions: true,
    idempotency: true,
    body: 'video',
    responses: { '202': ['Accepted: a job was queued (Location: its status URL)', 'Accepted'], ...videoUpload },
  },
  images: { summary: 'Upload one image', tag: 'images', options: true, idempotency: true, body: 'image', responses: { '202': ['Accepted: a job was queued (Location: its status URL)', 'Accepted'], ...upload } },
  upload: { summary: 'Upload one image (seed alias of POST /v1/images)', tag: 'seed aliases', deprecated: true, options: true, idempotency: true, body: 'image', responses: { '202': ['Accepted', seedBody('The seed service\'s shape: job_id, filename, file_size, status, message')], ...upload } },
  images_batch: { summary: 'Upload many images, one job each', tag: 'images', options: true, idempotency: true, body: 'batch', responses: { '202': ['At least one file accepted', 'Batch'], ...upload, '400': ['No file accepted (answered with the first file\'s own code and status, every file\'s verdict in jobs), or a bad option', 'BatchRejected'] } },
  batch_upload: { summary: 'Upload many images (seed alias of POST /v1/images:batch)', tag: 'seed aliases', deprecated: true, options: true, idempotency: true, body: 'batch', responses: { '202': ['Accepted', seedBody('The seed service\'s shape: jobs, total, accepted, message')], ...upload } },
  job: { summary: 'A job: status, timings, result location, detections', tag: 'images', wait: true, responses: { '200': ['The job', 'Job'], '400': ['A bad wait= value', 'Error'], '404': jobNotFound, ...common } },
  job_delete: {
    summary: 'Erase a job: its original, result, metadata and record',
    description: 'A queued or processing job is cancelled by the erasure: it is never claimed again, and a worker still running it deletes its outputs instead of storing them. A second DELETE answers 404.',
    tag: 'images',
    responses: { '204': ['Erased'], '404': jobNotFound, '503': ['Storage unavailable: nothing was forgotten, retry', 'Error'], ...common },
  },
  status: { summary: 'A job (seed alias of GET /v1/jobs/{id})', tag: 'seed aliases', deprecated: true, wait: true, responses: { '200': ['The job in the seed\'s shape', seedBody('job_id, status, filename, file_size, created_at, completed_at, results, error')], '404': jobNotFound, ...common } },
  job_result: {
    summary: 'The anonymized image or video',
    tag: 'images',
    wait: true,
    responses: {
      '200': ['The image (or video: video/mp4, video/x-matroska)', Object.fromEntries(['image/jpeg', 'image/png', 'image/webp', 'video/mp4', 'video/x-matroska'].map((t) => [t, { schema: { type: 'string', format: 'binary', contentMediaType: t } }]))],
      '302': ['RESULT_DELIVERY=presign: a presigned S3 URL in Location'],
      '404': jobNotFound,
      '409': ['Not completed yet (RESULT_NOT_READY)', 'Error'],
      ...common,
    },
  },
  stats: { summary: 'Throughput and latency percentiles (a tenant sees its own)', tag: 'status', responses: { '200': ['Stats', 'Stats'], ...common } },
  stats_unversioned: { summary: 'Stats (seed alias of GET /v1/stats)', tag: 'seed aliases', deprecated: true, responses: { '200': ['Stats with the seed\'s total_processed, queue_size, average_processing_time', seedBody('Stats plus the seed\'s names')], ...common } },
  queue: { summary: 'Queue depth and workers (a tenant sees its own counts)', tag: 'status', responses: { '200': ['The queue', 'Queue'], ...common } },
  queue_unversioned: { summary: 'Queue (seed alias of GET /v1/queue)', tag: 'seed aliases', deprecated: true, responses: { '200': ['The queue with the seed\'s queue_size, active_workers', seedBody('Queue plus the seed\'s names')], ...common } },
  health: { summary: 'Liveness', tag: 'status', security: 'open', responses: { '200': ['Alive', 'Health'] } },
  ready: { summary: 'Readiness: queue, storage and models', tag: 'status', security: 'open', responses: { '200': ['Ready', 'Ready'], '503': ['Not ready; checks says what failed', 'Ready'] } },
  metrics: { summary: 'Prometheus metrics', tag: 'status', security: 'metrics', responses: { '200': ['Prometheus text format', { 'text/plain': { schema: { type: 'string' } } }], '401': ['METRICS_TOKEN set and not sent', 'Error'] } },
  openapi: { summary: 'This document', tag: 'site', security: 'open', responses: { '200': ['OpenAPI 3.1', { 'application/json': { schema: { type: 'object' } } }] } },
  docs: { summary: 'The API docs viewer (Swagger UI, served locally)', tag: 'site', security: 'open', responses: { '200': ['HTML', { 'text/html': { schema: { type: 'string' } } }] } },
  docs_slash: { summary: 'Redirects to /docs', tag: 'site', security: 'open', responses: { '302': ['Location: /docs'] } },
  docs_asset: { summary: 'The viewer\'s scripts and styles', tag: 'site', security: 'open', responses: { '200': ['The file', { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } } }], '404': ['No such file', 'Error'] } },
};

const html = { 'text/html': { schema: { type: 'string' } } };

/** Paths served beside the route table: the demo page and the WebSocket (as far as OpenAPI can say). */
export const SITE_PATHS: Record<string, Json> = {
  '/': { get: { operationId: 'demo_page', summary: 'Demo page: drop images, see them anonymized', tags: ['site'], security: [], responses: { '200': { description: 'HTML', content: html } } } },
  '/web/{file}': {
    get: {
      operationId: 'demo_asset',
      summary: 'The demo page\'s files, and /web/config.json (auth mode, upload limit, detectors)',
      tags: ['site'],
      security: [],
      parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' }, example: 'app.js' }],
      responses: { '200': { description: 'The file' }, '404': { description: 'No such file', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } },
    },
  },
  '/v1/stream': {
    get: {
      operationId: 'stream',
      summary: 'WebSocket: each binary message is one image',
      description: [
        'OpenAPI cannot describe WebSocket messages; this is the upgrade request. Open with the job options as query parameters (as for POST /v1/images) and `return_image=true` to get the anonymized image back as a binary message.',
        'Browsers authenticate with subprotocols: `new WebSocket(url, ["pixveil", "pixveil.bearer." + base64url(token)])`; other clients send Authorization or X-API-Key.',
        'Per image the server sends `{"type":"ack","job_id":...}` at once, then `{"type":"result", ...the job as GET /v1/jobs/{id}...}`; errors come as `{"type":"error","error":{code,message}}`. At most WS_MAX_IN_FLIGHT images per connection may be in flight.',
      ].join('\n\n'),
      tags: ['images'],
      'x-websocket': true,
      parameters: [{ name: 'return_image', in: 'query', required: false, schema: { type: 'boolean' } }],
      responses: { '101': { description: 'Switching Protocols (WebSocket)' }, '401': { description: 'Not authenticated', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } },
    },
  },
};
