import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { errors } from '../../errors.js';
import { packageRoot } from '../../paths.js';
import type { IngestContext } from '../context.js';
import type { RouteSpec } from '../route.js';

// GET /openapi.json, and GET /docs: Swagger UI from the swagger-ui-dist package, served from
// memory by this front end (no CDN), with our own initializer since the CSP allows no inline script.

const VIEWER_FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

// Swagger UI sets style attributes as it renders, so styles need 'unsafe-inline'; scripts stay 'self' only.
const DOCS_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; connect-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'Cache-Control': 'no-cache',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>pixveil API docs</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-ui-standalone-preset.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
  validatorUrl: null,
});
`;

interface Asset {
  body: Buffer;
  contentType: string;
}

function viewerDir(): string | undefined {
  try {
    return path.dirname(createRequire(path.join(packageRoot, 'package.json')).resolve('swagger-ui-dist/package.json'));
  } catch {
    return undefined;
  }
}

function loadViewer(ctx: IngestContext): Map<string, Asset> {
  const assets = new Map<string, Asset>([['init.js', { body: Buffer.from(INIT), contentType: 'text/javascript; charset=utf-8' }]]);
  const dir = viewerDir();
  if (!dir) ctx.log.warn('API docs viewer not served: swagger-ui-dist is not installed; /openapi.json still is');
  for (const [name, contentType] of Object.entries(VIEWER_FILES)) {
    if (dir) assets.set(name, { body: fs.readFileSync(path.join(dir, name)), contentType });
  }
  return assets;
}

/** The document is built once, on first use, from whatever `document` returns (the route table). */
export function docsRoutes(ctx: IngestContext, document: () => object): RouteSpec[] {
  let json: Buffer | undefined;
  let viewer: Map<string, Asset> | undefined;
  const assets = () => (viewer ??= loadViewer(ctx));
  return [
    {
      method: 'get', patterns: ['/openapi.json'], name: 'openapi', params: 0, access: 'open',
      handler: (c) => c.reply.send(200, (json ??= Buffer.from(JSON.stringify(document()))), 'application/json', { 'Cache-Control': 'no-cache', 'Access-Control-Allow-Origin': '*' }),
    },
    { method: 'get', patterns: ['/docs'], name: 'docs', params: 0, access: 'open', handler: (c) => c.reply.send(200, PAGE, 'text/html; charset=utf-8', DOCS_HEADERS) },
    // uWS matches no empty `:file`: `/docs/` is sent to the viewer's own address.
    { method: 'get', patterns: ['/docs/'], name: 'docs_slash', params: 0, access: 'open', handler: (c) => c.reply.redirect('/docs') },
    {
      method: 'get', patterns: ['/docs/:file'], name: 'docs_asset', params: 1, access: 'open',
      handler: (c) => {
        // Answered from memory by name: no request path reaches the filesystem.
        const asset = assets().get(c.info.params[0]);
        if (!asset) throw errors.notFound(c.info.path);
        c.reply.send(200, asset.body, asset.contentType, DOCS_HEADERS);
      },
    },
  ];
}
