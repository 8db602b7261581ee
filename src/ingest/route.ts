import type { Call, AccessLevel } from './access.js';
import type { RequestInfo } from './http.js';

// One entry of the route table (server.ts): what uWS registers, what access it needs, and the
// name its metrics, audit lines and OpenAPI entry (route-docs.ts) go by.

export type Handler = (call: Call) => Promise<void> | void;

export interface BodyRule {
  /** Largest body this request may send. */
  limit: (info: RequestInfo) => number;
  /** The setting a 413 names. */
  setting: string;
  /** Written to a temporary file as it arrives (videos) instead of held in memory: the route gets Call.upload. */
  onDisk?: boolean;
}

export type RouteMethod = 'get' | 'post' | 'del';

export interface RouteSpec {
  method: RouteMethod;
  patterns: string[];
  name: string;
  params: number;
  access: AccessLevel;
  /** Upload routes: the body limit; counts against MAX_CONCURRENT_UPLOADS and UPLOAD_BUDGET_BYTES. */
  body?: BodyRule;
  handler: Handler;
}

/** `del` is uWS's name for DELETE. */
export function httpMethodOf(method: RouteMethod): string {
  return method === 'del' ? 'DELETE' : method.toUpperCase();
}

/** One path segment as a regex; `:name` matches any one segment, as uWS does. */
function segmentPattern(segment: string): string {
  return segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Path → the methods the table answers on it. */
export function allowedMethods(routes: readonly RouteSpec[]): (path: string) => string[] {
  // A GET route answers HEAD too (server.ts).
  const entries = routes.flatMap((spec) =>
    spec.patterns.flatMap((pattern) => {
      const match = new RegExp(`^${pattern.split('/').map(segmentPattern).join('/')}$`);
      return (spec.method === 'get' ? ['GET', 'HEAD'] : [httpMethodOf(spec.method)]).map((method) => ({ method, match }));
    }),
  );
  return (path) => {
    const methods = new Set(entries.filter((e) => e.match.test(path)).map((e) => e.method));
    return [...methods];
  };
}
