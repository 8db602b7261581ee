// The OpenAPI 3.1 document, built at start-up from the route table (server.ts) and the same
// TypeBox schemas that validate requests (schema/) and describe responses (api-schema.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { packageRoot } from '../paths.js';
import { expectedOf } from '../schema/describe.js';
import { sharedJobSchemas } from '../schema/job.js';
import { JobOptionsQuerySchema, type JobOptionsQueryName } from '../schema/options-query.js';
import { VideoOptionsQuerySchema, type VideoOptionsQueryName } from '../schema/video-options-query.js';
import { apiSchemas } from './api-schema.js';

export type Json = Record<string, unknown>;

/** [description, component schema name | media type → {schema} map]. */
export type ResponseDoc = readonly [string, string?] | readonly [string, Record<string, Json>];

/** One route's entry: what the route table does not know. */
export interface RouteDoc {
  summary: string;
  description?: string;
  tag: string;
  /** Seed-service aliases: documented, marked deprecated. */
  deprecated?: boolean;
  /** Job options as query parameters (upload routes). */
  options?: boolean;
  /** POST /v1/videos: the per-frame image options (without format and quality) and the video's own. */
  videoOptions?: boolean;
  wait?: boolean;
  idempotency?: boolean;
  body?: 'image' | 'batch' | 'video';
  security?: 'tenant' | 'metrics' | 'open';
  /** status → [description, component schema name, or a media type → schema map]. */
  responses: Record<string, ResponseDoc>;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
// Every job option of an upload route, in the schema's order (so each kind's threshold, src/kinds.ts, is there);
// `wait` belongs to the job routes (RouteDoc.wait) and `return_image` to the WebSocket.
const OPTION_PARAMS = (Object.keys(JobOptionsQuerySchema.properties) as JobOptionsQueryName[]).filter((name) => name !== 'wait' && name !== 'return_image');
const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'];
const VIDEO_TYPES = ['video/mp4', 'video/quicktime', 'video/x-matroska', 'video/webm', 'video/mp2t'];
const VIDEO_PARAMS: VideoOptionsQueryName[] = ['detect_every', 'audio', 'format'];
const binary = { type: 'string', format: 'binary', contentMediaType: 'application/octet-stream' };

/**
 * A TypeBox schema as plain JSON Schema for the document: TypeBox's symbols dropped, every
 * nested schema with an $id (and every Type.Ref) turned into a $ref to components.
 */
export function toDocumentSchema(schema: TSchema, components: Map<string, Json>, root = true): Json {
  const walk = (node: unknown, top: boolean): unknown => {
    if (Array.isArray(node)) return node.map((n) => walk(n, false));
    if (!node || typeof node !== 'object') return node;
    const obj = node as Json;
    if (typeof obj.$id === 'string' && !top) {
      if (!components.has(obj.$id)) {
        components.set(obj.$id, {});
        components.set(obj.$id, walk(obj, true) as Json);
      }
      return ref(obj.$id);
    }
    if (typeof obj.$ref === 'string' && !obj.$ref.startsWith('#')) return ref(obj.$ref);
    const out: Json = {};
    for (const [k, v] of Object.entries(obj)) {
      if (k === '$id') continue;
      // `examples` holds values, not schemas.
      out[k] = k === 'examples' || k === 'default' || k === 'enum' || k === 'const' ? v : walk(v, false);
    }
    return out;
  };
  return walk(schema, root) as Json;
}

function queryParameter(name: JobOptionsQueryName | VideoOptionsQueryName, components: Map<string, Json>, video = false): Json {
  const schema = (video ? VideoOptionsQuerySchema.properties[name as VideoOptionsQueryName] : JobOptionsQuerySchema.properties[name as JobOptionsQueryName]) as TSchema;
  const s = toDocumentSchema(schema, components, false);
  const isList = (schema as { type?: string }).type === 'array';
  return {
    name,
    in: 'query',
    required: false,
    description: `${(schema as { description?: string }).description ?? ''}${(schema as { description?: string }).description ? '. ' : ''}Expected: ${expectedOf(schema)}.`,
    schema: s,
    ...(isList ? { style: 'form', explode: false } : {}),
  };
}

function operation(spec: { method: string; pattern: string; operationId: string }, doc: RouteDoc, components: Map<string, Json>): Json {
  const parameters: Json[] = [];
  // Only whole segments are parameters: `/v1/images:batch` has none.
  for (const name of spec.pattern.split('/').filter((seg) => seg.startsWith(':')).map((seg) => seg.slice(1))) {
    parameters.push({ name, in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{16,64}$' }, example: 'q3Xv0dY8TqK1mZs9cW2b7A' });
  }
  if (doc.options) for (const name of OPTION_PARAMS) parameters.push(queryParameter(name, components));
  if (doc.videoOptions) {
    for (const name of OPTION_PARAMS) if (name !== 'format' && name !== 'quality') parameters.push(queryParameter(name, components));
    for (const name of VIDEO_PARAMS) parameters.push(queryParameter(name, components, true));
  }
  if (doc.wait) parameters.push(queryParameter('wait', components));
  if (doc.idempotency) {
    parameters.push({ name: 'Idempotency-Key', in: 'header', required: false, description: 'Retrying with the same key answers the first job instead of making another', schema: { type: 'string', maxLength: 255 }, example: 'upload-2026-12-01-0001' });
  }
  const responses: Json = {};
  for (const [status, [description, content]] of Object.entries(doc.responses)) {
    const entry: Json = { description };
    if (typeof content === 'string') {
      const component = components.get(content);
      const example = (component?.examples as unknown[] | undefined)?.[0];
      entry.content = { 'application/json': { schema: ref(content), ...(example !== undefined ? { example } : {}) } };
    } else if (content) {
      entry.content = content;
    }
    if (status === '405') entry.headers = { Allow: { description: 'The methods this path answers', schema: { type: 'string' } } };
    if (status === '429' || status === '503') entry.headers = { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } };
    responses[status] = entry;
  }
  const op: Json = {
    operationId: spec.operationId,
    summary: doc.summary,
    tags: [doc.tag],
    ...(doc.description ? { description: doc.description } : {}),
    ...(doc.deprecated ? { deprecated: true } : {}),
    ...(parameters.length ? { parameters } : {}),
    responses,
  };
  if (doc.security === 'open') op.security = [];
  if (doc.security === 'metrics') op.security = [{ metricsToken: [] }, {}];
  if (doc.body === 'image') {
    op.requestBody = {
      required: true,
      description: 'The image: its raw bytes with its Content-Type, or multipart with a `file` part',
      content: {
        ...Object.fromEntries(IMAGE_TYPES.map((t) => [t, { schema: { type: 'string', format: 'binary', contentMediaType: t } }])),
        'multipart/form-data': { schema: { type: 'object', required: ['file'], properties: { file: binary } } },
      },
    };
  }
  if (doc.body === 'video') {
    op.requestBody = {
      required: true,
      description: 'The video (MP4/MOV, Matroska/WebM or MPEG-TS, recognised by its bytes): its raw bytes, or multipart with a `file` part',
      content: {
        ...Object.fromEntries(VIDEO_TYPES.map((t) => [t, { schema: { type: 'string', format: 'binary', contentMediaType: t } }])),
        'multipart/form-data': { schema: { type: 'object', required: ['file'], properties: { file: binary } } },
      },
    };
  }
  if (doc.body === 'batch') {
    op.requestBody = {
      required: true,
      description: 'Multipart with many `files` parts (or `file`, `files[]`); one job per file',
      content: { 'multipart/form-data': { schema: { type: 'object', required: ['files'], properties: { files: { type: 'array', items: binary } } } } },
    };
  }
  return op;
}

export interface DocumentedRoute {
  method: string;
  pattern: string;
  name: string;
  doc: RouteDoc;
}

function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** `/v1/jobs/:id` → `/v1/jobs/{id}`. */
export function openApiPath(pattern: string): string {
  return pattern.split('/').map((seg) => (seg.startsWith(':') ? `{${seg.slice(1)}}` : seg)).join('/');
}

export function buildOpenApiDocument(routes: readonly DocumentedRoute[], extraPaths: Record<string, Json> = {}): Json {
  const components = new Map<string, Json>();
  for (const schema of [...sharedJobSchemas, ...apiSchemas]) components.set(schema.$id!, toDocumentSchema(schema, components));
  const paths: Record<string, Json> = {};
  const ids = new Set<string>();
  for (const route of routes) {
    const p = openApiPath(route.pattern);
    // A route served at two paths (/v1/health, /health) gets one id per path.
    const operationId = ids.has(route.name) ? `${route.name}${route.pattern.replace(/[^A-Za-z]+/g, '_')}` : route.name;
    ids.add(operationId);
    paths[p] ??= {};
    paths[p][route.method.toLowerCase()] = operation({ method: route.method, pattern: route.pattern, operationId }, route.doc, components);
  }
  for (const [p, item] of Object.entries(extraPaths)) paths[p] = { ...(paths[p] ?? {}), ...item };
  return {
    openapi: '3.1.0',
    info: {
      title: 'pixveil',
      version: packageVersion(),
      description: 'Image anonymization: every face and licence plate blurred, objects detected. Upload, then poll the job, long-poll with ?wait=, or stream over the WebSocket at /v1/stream. Errors are `{error: {code, message}}`.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'images', description: 'Uploads and jobs' },
      { name: 'videos', description: 'Video uploads (jobs, results and erasure are the images routes)' },
      { name: 'status', description: 'Throughput, queue, health' },
      { name: 'seed aliases', description: 'The seed service\'s unversioned paths, kept for its clients' },
      { name: 'site', description: 'The demo page and these docs' },
    ],
    security: [{ bearer: [] }, { apiKey: [] }, {}],
    paths,
    components: {
      schemas: Object.fromEntries(components),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'AUTH=on: an API key or a JWT' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when set' },
      },
    },
  };
}
