// Every error a user can cause has a stable code and a clear message; its HTTP status is
// ingest's business (src/ingest/http-status.ts). Factories live here so messages stay
// consistent across ingest, pool and storage, and each says whether its failure is worth retrying.

/**
 * Every code pixveil answers or records a job with. A union, so ingest/http-status.ts must give each
 * one a status (a code without one does not compile) and a typo in a comparison is caught.
 */
export type ErrorCode =
  | 'INVALID_OPTION'
  | 'BAD_REQUEST'
  | 'INVALID_CALLBACK_URL'
  | 'EMPTY_BODY'
  | 'BAD_MULTIPART'
  | 'MISSING_FILE'
  | 'TOO_MANY_FILES'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'JOB_NOT_FOUND'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'REQUEST_TIMEOUT'
  | 'RESULT_NOT_READY'
  | 'IDEMPOTENCY_IN_PROGRESS'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'IMAGE_TOO_LARGE'
  | 'UNDECODABLE_IMAGE'
  | 'ANIMATED_IMAGE'
  | 'UNDECODABLE_VIDEO'
  | 'NO_VIDEO_STREAM'
  | 'VIDEO_TOO_LONG'
  | 'VIDEO_TOO_LARGE'
  | 'TOO_MANY_STREAMS'
  | 'VIDEO_TIMEOUT'
  | 'SEGMENT_FAILED'
  | 'VIDEO_UNAVAILABLE'
  | 'QUEUE_FULL'
  | 'OVERLOADED'
  | 'RATE_LIMITED'
  | 'TOO_MANY_UPLOADS'
  | 'TOO_MANY_IN_FLIGHT'
  | 'SLOW_READER'
  | 'HEADERS_TOO_LARGE'
  | 'INTERNAL'
  | 'PROCESSING_ERROR'
  | 'SERVICE_UNAVAILABLE'
  | 'SERVER_BUSY'
  | 'STORAGE_ERROR'
  | 'MODEL_MISSING'
  | 'MODEL_CHECKSUM';

export interface PixveilErrorOptions {
  /** A job failing with it is tried again (until MAX_ATTEMPTS); false fails it at once. */
  retryable: boolean;
  /** Response headers it calls for (Retry-After, WWW-Authenticate). */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class PixveilError extends Error {
  readonly code: ErrorCode;
  /** Transient errors (storage, Redis, models) are retried by the queue; bad input is not. */
  readonly retryable: boolean;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, opts: PixveilErrorOptions) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PixveilError';
    this.code = code;
    this.retryable = opts.retryable;
    this.headers = opts.headers ?? {};
  }

  toJSON(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export function isPixveilError(err: unknown): err is PixveilError {
  return err instanceof PixveilError;
}

function describeValue(value: unknown): string {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  let shown: string;
  try {
    shown = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  return `${shown} of type ${type}`;
}

/** One template for every bad option, as sharp does: `Expected <what> for <name> but received <value> of type <type>`. */
export function invalidOption(name: string, expected: string, value: unknown): PixveilError {
  return new PixveilError('INVALID_OPTION', `Expected ${expected} for ${name} but received ${describeValue(value)}`, { retryable: false });
}

export const errors = {
  invalidOption,
  emptyBody: () => new PixveilError('EMPTY_BODY', 'The request body is empty: send the image bytes or a multipart "file" field', { retryable: false }),
  payloadTooLarge: (limit: number, setting = 'MAX_UPLOAD_BYTES') =>
    new PixveilError('PAYLOAD_TOO_LARGE', `The upload exceeds the limit of ${limit} bytes (${setting})`, { retryable: false }),
  badRequest: (detail: string) => new PixveilError('BAD_REQUEST', `Malformed request: ${detail}`, { retryable: false }),
  serverBusy: (budget: number, retryAfterSeconds: number) =>
    new PixveilError('SERVER_BUSY', `Uploads in progress on this node hold its budget of ${budget} bytes (UPLOAD_BUDGET_BYTES); retry later`, {
      retryable: true,
      headers: { 'Retry-After': String(retryAfterSeconds) },
    }),
  idempotencyInProgress: (key: string) =>
    new PixveilError('IDEMPOTENCY_IN_PROGRESS', `An upload with Idempotency-Key ${key} is still being accepted; retry to get its job`, {
      retryable: true,
      headers: { 'Retry-After': '1' },
    }),
  unsupportedMediaType: (detail: string) =>
    new PixveilError('UNSUPPORTED_MEDIA_TYPE', `Unsupported image type: ${detail}. Send JPEG, PNG or WebP`, { retryable: false }),
  badMultipart: (detail: string) => new PixveilError('BAD_MULTIPART', `Malformed multipart body: ${detail}`, { retryable: false }),
  missingFile: (field: string) => new PixveilError('MISSING_FILE', `The multipart body has no "${field}" part with an image`, { retryable: false }),
  tooManyFiles: (limit: number) => new PixveilError('TOO_MANY_FILES', `A batch may hold at most ${limit} files (MAX_BATCH_FILES)`, { retryable: false }),
  imageTooLarge: (width: number, height: number, maxPixels: number) =>
    new PixveilError('IMAGE_TOO_LARGE', `The image is ${width}x${height} pixels, over the limit of ${maxPixels} pixels (MAX_PIXELS)`, { retryable: false }),
  overDecodeBudget: (width: number, height: number, budget: number) =>
    new PixveilError('IMAGE_TOO_LARGE', `The image is ${width}x${height} pixels, over this node's budget of ${budget} decoded pixels in flight (DECODE_PIXEL_BUDGET)`, { retryable: false }),
  undecodable: (detail: string) => new PixveilError('UNDECODABLE_IMAGE', `The image could not be decoded: ${detail}`, { retryable: false }),
  jobNotFound: (id: string) => new PixveilError('JOB_NOT_FOUND', `No job with id ${id}`, { retryable: false }),
  resultNotReady: (id: string, status: string) =>
    new PixveilError('RESULT_NOT_READY', `Job ${id} is ${status}; its result is not available`, { retryable: false }),
  queueFull: (limit: number, retryAfterSeconds: number) =>
    new PixveilError('QUEUE_FULL', `The queue holds ${limit} or more jobs (MAX_QUEUE_SIZE); retry later`, {
      retryable: false,
      headers: { 'Retry-After': String(retryAfterSeconds) },
    }),
  overloaded: (predictedWaitSeconds: number, targetSeconds: number, sloSeconds: number, drainPerSecond: number, retryAfterSeconds: number) =>
    new PixveilError(
      'OVERLOADED',
      `The backlog would keep this upload waiting about ${Number.isFinite(predictedWaitSeconds) ? Math.round(predictedWaitSeconds) : 'an unknown number of'} s at the cluster's ${drainPerSecond.toFixed(1)} images/s, over the ${Math.round(targetSeconds)} s admission target (ADMISSION_WAIT_FRACTION of the ${sloSeconds} s LATENCY_SLO_SECONDS); retry after ${retryAfterSeconds} s`,
      { retryable: true, headers: { 'Retry-After': String(retryAfterSeconds) } },
    ),
  unavailable: (what: string, retryAfterSeconds = 5) =>
    new PixveilError('SERVICE_UNAVAILABLE', `${what} is unavailable; retry later`, { retryable: true, headers: { 'Retry-After': String(retryAfterSeconds) } }),
  invalidCallbackUrl: (detail: string) => new PixveilError('INVALID_CALLBACK_URL', `callback_url refused: ${detail}`, { retryable: false }),
  notFound: (path: string) => new PixveilError('NOT_FOUND', `No route for ${path}`, { retryable: false }),
  methodNotAllowed: (method: string, path: string, allow?: readonly string[]) =>
    new PixveilError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}${allow ? ` (allowed: ${allow.join(', ')})` : ''}`, { retryable: false, headers: allow ? { Allow: allow.join(', ') } : {} }),
  storage: (op: string, key: string, cause: unknown) =>
    new PixveilError('STORAGE_ERROR', `Storage ${op} failed for ${key}: ${cause instanceof Error ? cause.message : String(cause)}`, { retryable: true, cause, headers: { 'Retry-After': '2' } }),
  modelMissing: (name: string, path: string, source: string) =>
    new PixveilError('MODEL_MISSING', `Model ${name} not found at ${path}. Run "pixveil models pull" or download it from ${source}`, { retryable: true }),
  modelChecksum: (name: string, path: string, expected: string, actual: string, source: string) =>
    new PixveilError('MODEL_CHECKSUM', `Model ${name} at ${path} has sha256 ${actual}, expected ${expected}. Delete it and run "pixveil models pull", or download it from ${source}`, { retryable: true }),
  unauthenticated: (message: string, challenge = 'Bearer realm="pixveil"') =>
    new PixveilError('UNAUTHENTICATED', message, { retryable: false, headers: { 'WWW-Authenticate': challenge } }),
  forbidden: (message: string) => new PixveilError('FORBIDDEN', message, { retryable: false }),
  rateLimited: (perMinute: number, retryAfterSeconds: number) =>
    new PixveilError('RATE_LIMITED', `Rate limit of ${perMinute} requests per minute exceeded (RATE_LIMIT_PER_MINUTE); retry after ${retryAfterSeconds}s`, {
      retryable: false,
      headers: { 'Retry-After': String(retryAfterSeconds) },
    }),
  authThrottled: (perMinute: number, retryAfterSeconds: number) =>
    new PixveilError('RATE_LIMITED', `More than ${perMinute} failed authentications per minute from this address (AUTH_FAILURES_PER_MINUTE); retry after ${retryAfterSeconds}s`, {
      retryable: false,
      headers: { 'Retry-After': String(retryAfterSeconds) },
    }),
  tooManyUploads: (limit: number, scope: string) =>
    new PixveilError('TOO_MANY_UPLOADS', `At most ${limit} uploads may be in progress at once per ${scope}; wait for one to finish`, {
      retryable: false,
      headers: { 'Retry-After': '1' },
    }),
  tooManyInFlight: (limit: number) =>
    new PixveilError('TOO_MANY_IN_FLIGHT', `At most ${limit} images per connection may be in flight (WS_MAX_IN_FLIGHT); wait for results`, { retryable: false }),
  slowReader: (queued: number, cap: number) =>
    new PixveilError('SLOW_READER', `${queued} bytes of results are waiting to be read on this connection (cap ${cap}, WS_MAX_BACKLOG_BYTES); read them before sending more images`, {
      retryable: false,
      headers: { 'Retry-After': '1' },
    }),
  headersTooLarge: (bytes: number, limit: number) =>
    new PixveilError('HEADERS_TOO_LARGE', `The request headers are ${bytes} bytes, over the limit of ${limit} (MAX_HEADER_BYTES)`, { retryable: false }),
  requestTimeout: (detail: string) => new PixveilError('REQUEST_TIMEOUT', `The request body arrived too slowly: ${detail}`, { retryable: false }),
  imageDimensionTooLarge: (width: number, height: number, maxDimension: number) =>
    new PixveilError('IMAGE_TOO_LARGE', `The image is ${width}x${height} pixels; width and height may be at most ${maxDimension} (MAX_DIMENSION)`, { retryable: false }),
  outputTooLarge: (width: number, height: number, format: string, maxSide: number) =>
    new PixveilError('IMAGE_TOO_LARGE', `The image is ${width}x${height} pixels; ${format} output allows at most ${maxSide} per side: ask for another format= (jpeg, png)`, { retryable: false }),
  animatedImage: (pages: number) =>
    new PixveilError('ANIMATED_IMAGE', `The image has ${pages} frames (animated or multi-page); pixveil anonymizes still images only: send each frame as its own image`, { retryable: false }),
  unsupportedVideoType: (detail: string) =>
    new PixveilError('UNSUPPORTED_MEDIA_TYPE', `Unsupported video type: ${detail}. Send MP4/MOV, Matroska/WebM or MPEG-TS`, { retryable: false }),
  videoUnavailable: (detail: string) =>
    new PixveilError('VIDEO_UNAVAILABLE', `Video processing is not available on this server: ${detail} (install ffmpeg, or set FFMPEG_PATH and FFPROBE_PATH)`, { retryable: true, headers: { 'Retry-After': '60' } }),
  undecodableVideo: (detail: string) => new PixveilError('UNDECODABLE_VIDEO', `The video could not be read: ${detail}`, { retryable: false }),
  noVideoStream: (detail: string) => new PixveilError('NO_VIDEO_STREAM', `The file has no video to anonymize: ${detail}`, { retryable: false }),
  videoTooLong: (seconds: number, limit: number) =>
    new PixveilError('VIDEO_TOO_LONG', `The video lasts ${Math.round(seconds)} s, over the limit of ${limit} s (MAX_VIDEO_SECONDS)`, { retryable: false }),
  videoTooLarge: (width: number, height: number, limit: number) =>
    new PixveilError('VIDEO_TOO_LARGE', `The video's frames are ${width}x${height} pixels, over the limit of ${limit} pixels per frame (MAX_VIDEO_PIXELS)`, { retryable: false }),
  tooManyStreams: (count: number, limit: number) =>
    new PixveilError('TOO_MANY_STREAMS', `The file has ${count} streams; at most ${limit} are accepted`, { retryable: false }),
  videoTimeout: (seconds: number) =>
    new PixveilError('VIDEO_TIMEOUT', `Processing the video took longer than ${seconds} s (VIDEO_TIMEOUT_SECONDS); ffmpeg was stopped`, { retryable: false }),
  /** A long video's segment job failed for good (after its own retries): the video fails with it. */
  segmentFailed: (index: number, code: string, message: string) =>
    new PixveilError('SEGMENT_FAILED', `Segment ${index} of the video failed (${code}): ${message}`, { retryable: false }),
  internal: (message: string) => new PixveilError('INTERNAL', message, { retryable: true }),
  /** The pipeline threw something that is not ours (a library's error): the job is tried again. */
  processingFailed: (message: string) => new PixveilError('PROCESSING_ERROR', message, { retryable: true }),
  /** A bug, not a bad request: the client gets only the id under which the stack was logged. */
  unexpected: (requestId: string) =>
    new PixveilError('INTERNAL', `An unexpected error occurred on the server (request id ${requestId}); it was logged under that id`, {
      retryable: true,
      headers: { 'X-Request-Id': requestId },
    }),
};
