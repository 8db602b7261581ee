import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeAudit } from '../../auth/audit.js';
import { errors, type PixveilError } from '../../errors.js';
import { detectionKinds } from '../../kinds.js';
import { packageRoot } from '../../paths.js';
import type { IngestContext } from '../context.js';
import { guardHttp } from '../guard.js';
import { framingProblem, readRequest, statusLine } from '../http.js';
import { httpStatusOf } from '../http-status.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from '../uws.js';

// The demo page: GET / is web/index.html, GET /web/<file> the rest of web/, and /web/config.json
// what the page needs to know about this server (auth, upload limit, detectors).

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

const STATUS_LINE: Record<number, string> = { 200: '200 OK', 304: '304 Not Modified', 404: '404 Not Found', 405: '405 Method Not Allowed' };

// The page talks to the API on its own origin only; images and videos shown are blob: URLs made in the page.
const PAGE_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
};

export interface SiteAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

/**
 * Reads every servable file of `dir` once. Requests are answered from this map by name, so no
 * request path ever reaches the filesystem (`..`, encoded or not, is just a name that is not there).
 */
export function loadSite(dir: string): Map<string, SiteAsset> {
  const assets = new Map<string, SiteAsset>();
  if (!fs.existsSync(dir)) return assets;
  const walk = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      const contentType = CONTENT_TYPES[path.extname(entry.name).toLowerCase()];
      if (!entry.isFile() || !contentType) continue;
      const body = fs.readFileSync(path.join(dir, rel));
      assets.set(rel, { body, contentType, etag: `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
    }
  };
  walk('');
  return assets;
}

/** Public facts the page adapts to; nothing here is secret (a 401 or 413 would say as much). */
function pageConfig(ctx: IngestContext): SiteAsset {
  const body = Buffer.from(
    JSON.stringify({
      auth: ctx.config.auth,
      max_upload_bytes: ctx.config.maxUploadBytes,
      ws_max_in_flight: ctx.config.wsMaxInFlight,
      detectors: ctx.options.available,
      // The detection kinds (src/kinds.ts) the page offers, counts and draws.
      kinds: detectionKinds().map((k) => ({ slot: k.slot, name: k.name, labelled_by_class: Boolean(k.labelledByClass) })),
    }),
  );
  return { body, contentType: 'application/json', etag: '' };
}

interface Answer {
  status: number;
  code?: string;
  headers: Record<string, string>;
  body: Buffer;
}

function errorAnswer(e: PixveilError, extra: Record<string, string> = {}): Answer {
  return { status: httpStatusOf(e), code: e.code, headers: { 'Content-Type': 'application/json', ...e.headers, ...extra }, body: Buffer.from(JSON.stringify(e.toJSON())) };
}

/** GET / and GET|HEAD /web/<file> on the API front end; other methods there get 405. */
export function registerSite(app: TemplatedApp, ctx: IngestContext, dir = path.join(packageRoot, 'web')): void {
  const assets = loadSite(dir);
  if (!assets.has('index.html')) ctx.log.warn('demo page not served: no index.html', { dir });

  const lookup = (urlPath: string): SiteAsset | undefined => {
    if (urlPath === '/') return assets.get('index.html');
    if (urlPath === '/web/config.json') return pageConfig(ctx);
    let name: string;
    try {
      name = decodeURIComponent(urlPath.slice('/web/'.length));
    } catch {
      return undefined;
    }
    return assets.get(name);
  };

  const answer = (method: string, urlPath: string, ifNoneMatch: string): Answer => {
    if (method !== 'GET' && method !== 'HEAD') return errorAnswer(errors.methodNotAllowed(method, urlPath), { Allow: 'GET, HEAD' });
    const asset = lookup(urlPath);
    if (!asset) return errorAnswer(errors.notFound(urlPath));
    // No build step, so names carry no hash: browsers revalidate every time and get 304s.
    const common = { ...PAGE_HEADERS, 'Cache-Control': asset.etag ? 'no-cache' : 'no-store', ...(asset.etag ? { ETag: asset.etag } : {}) };
    if (asset.etag && ifNoneMatch.split(/\s*,\s*/).includes(asset.etag)) return { status: 304, headers: common, body: Buffer.alloc(0) };
    return { status: 200, headers: { 'Content-Type': asset.contentType, ...common }, body: asset.body };
  };

  const handle = (res: HttpResponse, req: HttpRequest) => {
    const started = performance.now();
    const method = req.getMethod().toUpperCase();
    const urlPath = req.getUrl();
    const info = readRequest(req, res);
    const remote = info.remoteAddress;
    // The same framing and size rules as the API routes; such a connection is not reused.
    const framing = framingProblem(info);
    const refusal = framing ? errors.badRequest(framing) : info.headerBytes > ctx.config.maxHeaderBytes ? errors.headersTooLarge(info.headerBytes, ctx.config.maxHeaderBytes) : undefined;
    const a = refusal ? errorAnswer(refusal) : answer(method, urlPath, req.getHeader('if-none-match'));
    // Drain any body so a stray POST leaves the connection usable.
    if (method !== 'GET' && method !== 'HEAD') res.onData(() => {});
    // This uWS build does not count endWithoutBody as a response; an abort handler keeps it from aborting.
    res.onAborted(() => {});
    res.cork(() => {
      res.writeStatus(STATUS_LINE[a.status] ?? statusLine(a.status));
      for (const [k, v] of Object.entries(a.headers)) res.writeHeader(k, v);
      if (refusal) res.end(a.body, true);
      // Closed after: this uWS build leaves the response pending after endWithoutBody.
      else if (method === 'HEAD') res.endWithoutBody(a.body.length, true);
      else res.end(a.body);
    });
    ctx.metrics.httpRequests.inc({ route: 'site', status: String(a.status) });
    writeAudit(ctx.log, {
      method,
      route: urlPath === '/' ? '/' : '/web/*',
      jobIds: [],
      status: a.status,
      code: a.code,
      bytesIn: 0,
      durationMs: performance.now() - started,
      remote,
    });
  };

  for (const pattern of ['/', '/web/*']) app.any(pattern, guardHttp(ctx.log, `site ${pattern}`, handle));
}
