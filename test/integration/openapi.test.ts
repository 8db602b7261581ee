// The OpenAPI document against the server it describes: every route of the route table is in it
// with its methods (and answered), every example validates against its TypeBox schema, real
// answers validate too, the document holds together as OpenAPI 3.1 (structure, $refs, ids), and
// /docs loads its viewer from this server under its CSP, in a real browser.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { chromium } from 'playwright-core';
import { loadConfig } from '../../src/config/config.js';
import { apiSchemas } from '../../src/ingest/api-schema.js';
import type { IngestContext } from '../../src/ingest/context.js';
import { openApiPath } from '../../src/ingest/openapi.js';
import { httpMethodOf } from '../../src/ingest/route.js';
import { routeTable } from '../../src/ingest/server.js';
import { silentLogger } from '../../src/observability/logger.js';
import { sharedJobSchemas } from '../../src/schema/job.js';
import { JobOptionsQuerySchema } from '../../src/schema/options-query.js';
import { darknetDir, facesDir, readFixture } from '../../harness/fixtures.js';
import { startTestNode, uploadFile, waitForJob, type TestNode } from '../../harness/server.js';

type Json = Record<string, any>;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const schemas: TSchema[] = [...sharedJobSchemas, ...apiSchemas];
const byId = new Map(schemas.map((s) => [s.$id!, s]));
const JOB_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** Each `$ref: '#/components/schemas/X'` in the document is TypeBox schema X here. */
function check(name: string, value: unknown): string[] {
  const schema = byId.get(name);
  assert.ok(schema, `no TypeBox schema for component ${name}`);
  return [...Value.Errors(schema, schemas, value)].map((e) => `${e.path}: ${e.message}`);
}

function resolvePointer(doc: Json, ref: string): unknown {
  assert.ok(ref.startsWith('#/'), `only local $refs: ${ref}`);
  return ref.slice(2).split('/').reduce<any>((node, part) => (node === undefined ? undefined : node[part.replace(/~1/g, '/').replace(/~0/g, '~')]), doc);
}

function* walk(node: unknown, at = '#'): Generator<[string, Json]> {
  if (!node || typeof node !== 'object') return;
  yield [at, node as Json];
  for (const [k, v] of Object.entries(node)) yield* walk(v, `${at}/${k}`);
}

describe('OpenAPI document and /docs', () => {
  let server: TestNode;
  let doc: Json;
  const table = routeTable({ config: loadConfig({ PORT: '0' }), role: 'serve', log: silentLogger } as unknown as IngestContext);

  before(async () => {
    server = await startTestNode();
    const res = await fetch(`${server.url}/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    doc = await res.json();
  });
  after(async () => server.close());

  test('every route of the route table is in the document with its methods, and the server answers each documented operation', async () => {
    assert.ok(table.length >= 18, `the route table has ${table.length} routes`);
    for (const spec of table) {
      for (const pattern of spec.patterns) {
        const item = doc.paths[openApiPath(pattern)];
        assert.ok(item, `${pattern} is in the document`);
        assert.ok(item[httpMethodOf(spec.method).toLowerCase()], `${httpMethodOf(spec.method)} ${pattern} is in the document`);
      }
    }
    // The demo page and the WebSocket are registered beside the table.
    for (const p of ['/', '/web/{file}', '/v1/stream']) assert.ok(doc.paths[p]?.get, `GET ${p}`);
    for (const [p, item] of Object.entries<Json>(doc.paths)) {
      if (p === '/v1/stream') continue;
      for (const method of METHODS.filter((m) => item[m])) {
        const url = `${server.url}${p.replace('{id}', JOB_ID).replace('{file}', p.startsWith('/docs') ? 'swagger-ui.css' : 'app.js')}`;
        const res = await fetch(url, { method: method.toUpperCase(), ...(method === 'post' ? { body: '' } : {}) });
        const body = res.headers.get('content-type')?.startsWith('application/json') ? await res.json() : await res.arrayBuffer();
        assert.notEqual(res.status, 405, `${method} ${p} is answered`);
        assert.notEqual((body as Json).error?.code, 'NOT_FOUND', `${method} ${p} has a route`);
      }
    }
  });

  test('seed aliases are marked deprecated; v1 routes are not', () => {
    for (const p of ['/upload', '/status/{id}', '/batch-upload', '/stats', '/queue-status']) {
      for (const op of METHODS.map((m) => doc.paths[p][m]).filter(Boolean)) assert.equal(op.deprecated, true, p);
    }
    assert.equal(doc.paths['/v1/images'].post.deprecated, undefined);
    assert.ok(doc.paths['/v1/jobs/{id}'].delete.responses['204']);
  });

  test('the query parameters are the option schema: names, enums, ranges and the comma-separated lists', () => {
    const params: Json[] = doc.paths['/v1/images'].post.parameters;
    const names = params.filter((p) => p.in === 'query').map((p) => p.name);
    for (const name of Object.keys(JobOptionsQuerySchema.properties).filter((n) => n !== 'return_image' && n !== 'wait')) assert.ok(names.includes(name), name);
    const blur = params.find((p) => p.name === 'blur')!;
    assert.deepEqual(blur.schema.enum, ['gaussian', 'pixelate', 'solid']);
    assert.equal(blur.schema.default, 'gaussian');
    assert.match(blur.description, /Expected: one of gaussian, pixelate, solid/);
    const detect = params.find((p) => p.name === 'detect')!;
    assert.equal(detect.style, 'form');
    assert.equal(detect.explode, false);
    assert.deepEqual(detect.schema.items.enum, ['faces', 'plates', 'objects']);
    const quality = params.find((p) => p.name === 'quality')!;
    assert.deepEqual([quality.schema.type, quality.schema.minimum, quality.schema.maximum], ['integer', 1, 100]);
  });

  test('every documented example validates against its schema', () => {
    let checked = 0;
    for (const [name, component] of Object.entries<Json>(doc.components.schemas)) {
      for (const example of component.examples ?? []) {
        assert.deepEqual(check(name, example), [], `example of ${name}`);
        checked++;
      }
    }
    for (const [at, node] of walk(doc.paths)) {
      if (node.example === undefined) continue;
      if (node.schema?.$ref) {
        assert.deepEqual(check(node.schema.$ref.split('/').pop(), node.example), [], at);
      } else if (node.schema?.pattern) {
        assert.match(String(node.example), new RegExp(node.schema.pattern), at);
      } else if (node.schema?.maxLength) {
        assert.ok(String(node.example).length <= node.schema.maxLength, at);
      } else {
        continue;
      }
      checked++;
    }
    assert.ok(checked >= 15, `${checked} examples checked`);
    // Every response schema the document names has at least one example.
    for (const name of ['Error', 'Accepted', 'Job', 'Batch', 'Queue', 'Stats', 'Health', 'Ready']) assert.ok(doc.components.schemas[name].examples?.length, name);
  });

  test('real answers validate against the documented schemas (the schemas describe what the server sends)', async () => {
    const get = async (p: string) => (await fetch(`${server.url}${p}`)).json();
    assert.deepEqual(check('Health', await get('/v1/health')), []);
    assert.deepEqual(check('Ready', await get('/v1/ready')), []);
    assert.deepEqual(check('Stats', await get('/v1/stats')), []);
    assert.deepEqual(check('Queue', await get('/v1/queue')), []);
    const accepted = await (await uploadFile(server.url, readFixture(facesDir, 'uf_3.jpg'), 'uf_3.jpg')).json();
    assert.deepEqual(check('Accepted', accepted), []);
    const job = await waitForJob(server.url, accepted.job_id);
    assert.equal(job.status, 'completed');
    assert.ok(job.result.detections.length > 0);
    assert.deepEqual(check('Job', job), []);
    assert.deepEqual(check('Error', await get(`/v1/jobs/${JOB_ID}`)), []);
    const form = new FormData();
    form.append('files', new Blob([new Uint8Array(readFixture(darknetDir, 'dog.jpg'))]), 'dog.jpg');
    form.append('files', new Blob([new TextEncoder().encode('not an image')]), 'notes.txt');
    const batch = await (await fetch(`${server.url}/v1/images:batch`, { method: 'POST', body: form })).json();
    assert.deepEqual(check('Batch', batch), []);
    assert.deepEqual([batch.accepted, batch.rejected], [1, 1]);
  });

  test('the document holds together as OpenAPI 3.1: structure, unique operation ids, path parameters, $refs, security, tags', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(typeof doc.info.title, 'string');
    assert.equal(doc.info.version, JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version);
    const ids = new Set<string>();
    const tags = new Set(doc.tags.map((t: Json) => t.name));
    const schemes = new Set(Object.keys(doc.components.securitySchemes));
    for (const [p, item] of Object.entries<Json>(doc.paths)) {
      assert.match(p, /^\//);
      for (const key of Object.keys(item)) assert.ok([...METHODS, 'parameters', 'summary', 'description', 'servers'].includes(key), `${p}: ${key}`);
      for (const method of METHODS.filter((m) => item[m])) {
        const op = item[method];
        const where = `${method} ${p}`;
        assert.ok(op.operationId && !ids.has(op.operationId), `${where}: unique operationId ${op.operationId}`);
        ids.add(op.operationId);
        assert.ok(Object.keys(op.responses).length > 0, `${where}: responses`);
        for (const [status, response] of Object.entries<Json>(op.responses)) {
          assert.match(status, /^([1-5]\d\d|[1-5]XX|default)$/, where);
          assert.equal(typeof response.description, 'string', `${where} ${status}: description`);
        }
        const params: Json[] = op.parameters ?? [];
        for (const param of params) {
          assert.ok(['query', 'header', 'path', 'cookie'].includes(param.in), `${where}: ${param.name} in ${param.in}`);
          assert.ok(param.schema, `${where}: ${param.name} has a schema`);
        }
        const templated = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
        assert.deepEqual(params.filter((x) => x.in === 'path').map((x) => x.name).sort(), templated, `${where}: path parameters`);
        for (const param of params.filter((x) => x.in === 'path')) assert.equal(param.required, true);
        for (const tag of op.tags ?? []) assert.ok(tags.has(tag), `${where}: tag ${tag} declared`);
        for (const requirement of op.security ?? []) for (const name of Object.keys(requirement)) assert.ok(schemes.has(name), `${where}: ${name}`);
      }
    }
    let refs = 0;
    for (const [at, node] of walk(doc)) {
      if (typeof node.$ref !== 'string') continue;
      assert.ok(resolvePointer(doc, node.$ref) !== undefined, `${at}: $ref ${node.$ref} resolves`);
      refs++;
    }
    assert.ok(refs > 20, `${refs} $refs`);
    // TypeBox's own keys never leak into the document as JSON (symbols are dropped; $id only at components).
    for (const [at, node] of walk(doc.paths)) assert.equal(node.$id, undefined, at);
  });

  test('/docs serves the viewer from this server: HTML, its scripts and styles with the right types, under a CSP without inline scripts', async () => {
    const page = await fetch(`${server.url}/docs`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self';/);
    assert.match(csp, /connect-src 'self'/);
    const html = await page.text();
    assert.doesNotMatch(html, /<script>(?!<\/script>)|<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(html, /https?:\/\//, 'nothing from another origin');
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(assets.length >= 4, assets.join(' '));
    const types: Record<string, RegExp> = { '.js': /^text\/javascript/, '.css': /^text\/css/, '.png': /^image\/png/ };
    for (const asset of assets) {
      const res = await fetch(`${server.url}${asset}`);
      assert.equal(res.status, 200, asset);
      assert.match(res.headers.get('content-type') ?? '', types[asset.slice(asset.lastIndexOf('.'))], asset);
      if (asset.endsWith('init.js')) assert.match(await res.text(), /url: '\/openapi\.json'/);
      else await res.arrayBuffer();
    }
    assert.equal((await fetch(`${server.url}/docs/..%2Fpackage.json`)).status, 404);
    assert.equal((await fetch(`${server.url}/docs/swagger-ui.js.map`)).status, 404, 'only the viewer\'s files are served');
  });

  test('/docs renders the operations in headless Chromium with no CSP violation and no request off this server', async (t) => {
    const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
    if (!fs.existsSync(executablePath)) {
      t.skip(`no Chromium at ${executablePath}`);
      return;
    }
    const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'] });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      const foreign: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('request', (r) => {
        if (!r.url().startsWith(server.url) && !r.url().startsWith('data:')) foreign.push(r.url());
      });
      await page.goto(`${server.url}/docs`);
      await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 });
      const shown = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.getAttribute('data-path')));
      assert.ok(shown.includes('/v1/jobs/{id}') && shown.includes('/v1/images'), shown.join(' '));
      assert.ok(await page.$('.opblock-delete'), 'the DELETE operation is shown');
      assert.deepEqual(problems.filter((p) => /Content Security Policy|Refused/.test(p)), [], problems.join('\n'));
      assert.deepEqual(foreign, []);
    } finally {
      await browser.close();
    }
  });
});
