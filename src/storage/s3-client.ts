import { S3Client } from '@aws-sdk/client-s3';

export interface S3ClientOptions {
  /** Empty: AWS S3 in `region`. */
  endpoint: string;
  region: string;
  forcePathStyle: boolean;
  /** Attempts per request, first one included; retries back off exponentially with jitter. */
  maxAttempts: number;
  /** Time allowed to open a TCP/TLS connection. */
  connectionTimeoutMs: number;
  /** Time allowed from sending a request to receiving the response headers. */
  requestTimeoutMs: number;
  /** A socket silent this long (request or response body stalled) fails the request. */
  socketTimeoutMs: number;
  /** Omitted: the standard AWS chain (AWS_ACCESS_KEY_ID, profiles, IRSA, instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export function createS3Client(opts: S3ClientOptions): S3Client {
  // The SDK is pinned to a release that supports Node 20 (README "Set up"); its multi-line notice that
  // later releases will not would break every start-up's one-line error. A user's own setting wins.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    region: opts.region,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    forcePathStyle: opts.forcePathStyle,
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    maxAttempts: opts.maxAttempts,
    // 'standard' retries 5xx, throttling and connection errors; 'adaptive' would also
    // rate-limit this client, which a worker with its own queue backpressure does not need.
    retryMode: 'standard',
    // The SDK's default flexible checksums frame streamed bodies (aws-chunked), which
    // S3-compatible stores such as s3rver store verbatim; we send our own checksums instead.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: opts.connectionTimeoutMs,
      requestTimeout: opts.requestTimeoutMs,
      throwOnRequestTimeout: true,
      socketTimeout: opts.socketTimeoutMs,
    },
  });
}

/** HTTP status of an SDK service error; undefined for network errors, timeouts and anything else. */
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** Turns a HeadBucket failure into a message an operator can act on. */
export function describeBucketFailure(err: unknown, bucket: string, endpoint: string): string {
  const status = httpStatusOf(err);
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  if (status === 404) return `S3 bucket ${bucket} not found at endpoint ${endpoint}. Create it or fix S3_BUCKET / S3_ENDPOINT`;
  if (status === 301 || status === 400) {
    return `S3 bucket ${bucket} at endpoint ${endpoint} rejected the request (HTTP ${status}); check AWS_REGION and S3_FORCE_PATH_STYLE (${detail})`;
  }
  if (status === 401 || status === 403) {
    return `Access to S3 bucket ${bucket} at endpoint ${endpoint} was denied (HTTP ${status}); check the AWS credentials (${detail})`;
  }
  if (status !== undefined) return `S3 bucket ${bucket} at endpoint ${endpoint} answered HTTP ${status} (${detail})`;
  return `S3 endpoint ${endpoint} is unreachable while checking bucket ${bucket} (${detail})`;
}
