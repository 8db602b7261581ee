import type { ErrorCode } from '../errors.js';

// The HTTP status of each error code: decided here, at the edge, not where the error is made.
// Keyed by the ErrorCode union, so a code added to errors.ts without a status here does not compile.
const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = Object.freeze({
  INVALID_OPTION: 400,
  BAD_REQUEST: 400,
  INVALID_CALLBACK_URL: 400,
  EMPTY_BODY: 400,
  BAD_MULTIPART: 400,
  MISSING_FILE: 400,
  TOO_MANY_FILES: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  JOB_NOT_FOUND: 404,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  RESULT_NOT_READY: 409,
  IDEMPOTENCY_IN_PROGRESS: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IMAGE_TOO_LARGE: 422,
  UNDECODABLE_IMAGE: 422,
  ANIMATED_IMAGE: 422,
  UNDECODABLE_VIDEO: 422,
  NO_VIDEO_STREAM: 422,
  VIDEO_TOO_LONG: 422,
  VIDEO_TOO_LARGE: 422,
  TOO_MANY_STREAMS: 422,
  VIDEO_TIMEOUT: 422,
  SEGMENT_FAILED: 500,
  QUEUE_FULL: 429,
  OVERLOADED: 429,
  RATE_LIMITED: 429,
  TOO_MANY_UPLOADS: 429,
  TOO_MANY_IN_FLIGHT: 429,
  SLOW_READER: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL: 500,
  // A job's failure, never an answer of its own: a job record or WebSocket frame that shows it says 500.
  PROCESSING_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  SERVER_BUSY: 503,
  STORAGE_ERROR: 503,
  MODEL_MISSING: 503,
  MODEL_CHECKSUM: 503,
  VIDEO_UNAVAILABLE: 503,
});

/** A code from a stored record that this build does not know (an older or newer node's) is 500. */
export function httpStatusOf(err: { code: string }): number {
  return STATUS_BY_CODE[err.code as ErrorCode] ?? 500;
}
