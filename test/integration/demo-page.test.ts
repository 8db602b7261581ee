import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type FileChooser, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { packageRoot } from '../../src/paths.js';
import { startCluster, type Cluster } from '../../harness/cluster.js';
import { makeClip } from '../../harness/clips.js';
import { facesDir, fixture } from '../../harness/fixtures.js';
import { startTestNode, type TestNode } from '../../harness/server.js';

// The demo page at / in headless Chromium (Debian's `chromium` package; .ci/run installs it).
// PIXVEIL_SCREENSHOT_DIR=/tmp keeps screenshots of the empty page and of finished results.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const KEY = 'demo-page-key-0123456789';
const photo = fixture(facesDir, 'uf_3.jpg');

async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: the demo page test needs a real browser. Install it with "apt-get install chromium" (or set CHROMIUM_PATH)`);
  }
  // Playwright gives each launch a new empty profile; the flags keep Chromium off the (closed) network.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.PIXVEIL_SCREENSHOT_DIR;
  if (dir) await page.screenshot({ path: path.join(dir, `pixveil-demo-${name}.png`), fullPage: true });
}

/** A request with the path exactly as given: fetch() would resolve `..` before sending. */
function rawGet(url: string, rawPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { path: rawPath }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Drops files on the page's file input as a user picking them would, and waits for their cards to settle. */
type Files = Array<{ name: string; mimeType: string; buffer: Buffer }>;

async function upload(page: Page, files: string | Files, how: 'input' | 'keyboard' | 'drop' = 'input'): Promise<void> {
  const before = await page.locator('.card').count();
  if (how === 'drop') {
    // What a drag from the desktop delivers: a drop event whose DataTransfer holds the files.
    const list = (files as Files).map((f) => ({ name: f.name, type: f.mimeType, base64: f.buffer.toString('base64') }));
    const dataTransfer = await page.evaluateHandle((list) => {
      const dt = new DataTransfer();
      for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
      return dt;
    }, list);
    await page.dispatchEvent('#drop', 'dragover', { dataTransfer });
    await page.dispatchEvent('#drop', 'drop', { dataTransfer });
  } else if (how === 'keyboard') {
    // Tab from the key field reaches the picker; Enter opens the file chooser.
    const tabToPicker = async () => {
      await page.focus('#api-key');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'files');
    };
    await tabToPicker();
    // A freshly started Chromium can drop the very first key press, and on a loaded machine the page
    // may still be settling (seen on CI): press again, still only from the keyboard and tabbing back to
    // the picker first, before calling the picker unreachable.
    let chooser: FileChooser | undefined;
    for (let tries = 0; !chooser && tries < 4; tries++) {
      if (tries > 0) await tabToPicker();
      const opened = page.waitForEvent('filechooser', { timeout: 5000 }).catch(() => undefined);
      await page.keyboard.press('Enter');
      chooser = await opened;
    }
    assert.ok(chooser, 'Enter on the focused picker opens the file chooser');
    await chooser.setFiles(files);
  } else await page.setInputFiles('#files', files);
  const count = Array.isArray(files) ? files.length : 1;
  await page.waitForFunction(
    ({ before, count }) => {
      const cards = [...document.querySelectorAll('.card')].slice(0, document.querySelectorAll('.card').length - before);
      return cards.length >= count && cards.every((c) => ['completed', 'failed'].includes((c.querySelector('.state') as HTMLElement).dataset.state!));
    },
    { before, count },
    { timeout: 90_000 },
  );
}

/** A card's job (0: the newest), its face count as shown and its anonymized image as loaded. */
async function shownResult(page: Page, index = 0) {
  const card = page.locator('.card').nth(index);
  return card.evaluate((el) => {
    const img = el.querySelector('img.anonymized') as HTMLImageElement;
    return {
      state: (el.querySelector('.state') as HTMLElement).dataset.state,
      error: (el.querySelector('.error') as HTMLElement).textContent,
      jobId: (el as HTMLElement).dataset.jobId,
      faces: Number(el.querySelector('.count-face b')?.textContent),
      loaded: img.complete && img.naturalWidth > 0,
      width: img.naturalWidth,
      height: img.naturalHeight,
      boxes: el.querySelectorAll('svg.overlay')[1].querySelectorAll('g.det').length,
      json: (el.querySelector('.json') as HTMLElement).textContent,
    };
  });
}

async function jobRecord(url: string, id: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v1/jobs/${id}`, { headers });
  assert.equal(res.status, 200);
  return res.json();
}

describe('demo page: static files', () => {
  let server: TestNode;
  before(async () => {
    server = await startTestNode({}, 'serve', { WORKERS: '1' });
  });
  after(async () => server.close());

  test('GET / is the page; its files come with their types and revalidate with ETag', async () => {
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const html = await page.text();
    assert.equal(html, fs.readFileSync(path.join(packageRoot, 'web', 'index.html'), 'utf8'));
    for (const [file, type] of [['app.js', 'text/javascript; charset=utf-8'], ['stream.js', 'text/javascript; charset=utf-8'], ['style.css', 'text/css; charset=utf-8']]) {
      const res = await fetch(`${server.url}/web/${file}`);
      assert.equal(res.status, 200, file);
      assert.equal(res.headers.get('content-type'), type);
      const etag = res.headers.get('etag')!;
      assert.ok(etag, `${file} has an ETag`);
      assert.equal((await fetch(`${server.url}/web/${file}`, { headers: { 'if-none-match': etag } })).status, 304);
    }
    const head = await fetch(`${server.url}/`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers.get('content-length')), Buffer.byteLength(html));
    assert.equal(await head.text(), '');
    const config = await (await fetch(`${server.url}/web/config.json`)).json();
    assert.deepEqual(config, { auth: 'off', max_upload_bytes: server.node.config.maxUploadBytes, ws_max_in_flight: server.node.config.wsMaxInFlight, detectors: { faces: true, plates: true, objects: true },
      // The registry's kinds (src/kinds.ts), so the page's Detect boxes, counts and labels follow it.
      kinds: [
        { slot: 'faces', name: 'face', labelled_by_class: false },
        { slot: 'plates', name: 'plate', labelled_by_class: false },
        { slot: 'objects', name: 'object', labelled_by_class: true },
      ],
    });
  });

  test('unknown files are 404, traversal (plain or encoded) reaches nothing, other methods 405', async () => {
    const missing = await fetch(`${server.url}/web/nope.js`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, 'NOT_FOUND');
    const secret = fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8');
    for (const raw of ['/web/../package.json', '/web/%2e%2e/package.json', '/web/..%2fpackage.json', '/web/%2e%2e%2f%2e%2e%2fpackage.json', '/web/..%5cpackage.json', '/web//etc/passwd', '/web/%2Fetc%2Fpasswd', '/web/', '/web/%', '/web/.eslintrc']) {
      const res = await rawGet(server.url, raw);
      assert.equal(res.status, 404, raw);
      assert.ok(!res.body.includes('"dependencies"') && !res.body.includes('root:'), `${raw} leaked a file`);
      assert.notEqual(res.body, secret);
    }
    const post = await fetch(`${server.url}/`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assert.equal((await post.json()).error.code, 'METHOD_NOT_ALLOWED');
  });
});

describe('demo page: distributed mode', () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({ workers: 1 });
  });
  after(async () => cluster?.close());

  test('pixveil api serves the page, pixveil worker does not', async () => {
    const api = await fetch(`${cluster.api.url}/`);
    assert.equal(api.status, 200);
    assert.match(await api.text(), /<title>pixveil demo<\/title>/);
    assert.equal((await fetch(`${cluster.api.url}/web/app.js`)).status, 200);
    assert.equal((await fetch(`${cluster.workers[0].url}/`)).status, 404);
    assert.equal((await fetch(`${cluster.workers[0].url}/web/app.js`)).status, 404);
  });
});

describe('demo page in Chromium', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => browser?.close());

  test('uploading a photo shows the anonymized image, boxes and the face count of the job record', async () => {
    const server = await startTestNode({}, 'serve', { WORKERS: '1' });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // Playwright intercepts file choosers once a page has a listener for them, which it turns on
    // asynchronously: listening from the start means no Enter below can race that and open a chooser
    // Playwright never sees.
    page.on('filechooser', () => {});
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(String(err)));
    page.on('console', (msg) => msg.type() === 'error' && problems.push(msg.text()));
    try {
      await page.goto(`${server.url}/`);
      assert.equal(await page.getByLabel('Style').inputValue(), 'gaussian');
      await screenshot(page, 'empty');

      await upload(page, photo, 'keyboard');
      const shown = await shownResult(page);
      assert.equal(shown.state, 'completed', shown.error ?? '');
      const job = await jobRecord(server.url, shown.jobId!);
      assert.equal(job.status, 'completed');
      const faces = job.result.detections.filter((d: any) => d.kind === 'face').length;
      assert.ok(faces >= 3, `uf_3.jpg has 5 labelled faces; the job found ${faces}`);
      assert.equal(shown.faces, faces, 'face count shown = face detections in the job record');
      assert.ok(shown.loaded, 'the anonymized image loaded');
      assert.deepEqual([shown.width, shown.height], [job.result.width, job.result.height]);
      assert.equal(shown.boxes, job.result.detections.length, 'one box per detection');
      assert.deepEqual(JSON.parse(shown.json).result.detections, job.result.detections);
      await screenshot(page, 'result');

      // Several files dropped at once, one refused: each card says how its file went.
      await page.selectOption('#blur', 'pixelate');
      await page.check('input[name=shape][value=ellipse]');
      await upload(page, [
        { name: 'uf_2.jpg', mimeType: 'image/jpeg', buffer: fs.readFileSync(fixture(facesDir, 'uf_2.jpg')) },
        { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image at all') },
      ], 'drop');
      const refused = await shownResult(page, 0);
      assert.equal(refused.state, 'failed');
      assert.match(refused.error!, /^415 Unsupported Media Type — UNSUPPORTED_MEDIA_TYPE: /);
      const second = await shownResult(page, 1);
      assert.equal(second.state, 'completed', second.error ?? '');
      const secondJob = await jobRecord(server.url, second.jobId!);
      assert.deepEqual([secondJob.options.blur, secondJob.options.shape], ['pixelate', 'ellipse'], 'the options chosen in the page reach the job');
      assert.equal(second.faces, secondJob.result.detections.filter((d: any) => d.kind === 'face').length);
      await screenshot(page, 'refused-415');
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
      await server.close();
    }
  });

  test('a video plays before and after: the card shows the job\'s frames and tracks, both players load', async () => {
    const server = await startTestNode({}, 'serve', { WORKERS: '1' });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(String(err)));
    try {
      await page.goto(`${server.url}/`);
      const clip = makeClip({ photo: path.join(facesDir, 'uf_3.jpg'), width: 320, height: 240, crop: { width: 960, height: 720 }, panPerFrame: 2, fps: 10, frames: 6, audio: true, format: 'mp4', ext: 'mp4' });
      await upload(page, [{ name: 'drive.mp4', mimeType: 'video/mp4', buffer: fs.readFileSync(clip) }], 'input');
      const card = page.locator('.card').nth(0);
      assert.equal(await card.locator('.state').getAttribute('data-state'), 'completed', (await card.locator('.error').textContent()) ?? '');
      const job = await jobRecord(server.url, (await card.getAttribute('data-job-id'))!);
      assert.equal(job.kind, 'video');
      assert.match((await card.locator('.counts').textContent())!, new RegExp(`^${job.result.video.frames} frames, \\d+ face`));
      // Both players have the video's metadata: the browser can play what the service wrote.
      const players = () => card.locator('video').evaluateAll((videos) => videos.map((v) => ({ ready: (v as HTMLVideoElement).readyState, network: (v as HTMLVideoElement).networkState, error: (v as HTMLVideoElement).error?.message ?? null, src: (v as HTMLVideoElement).src.slice(0, 12) })));
      for (let i = 0; i < 100 && !(await players()).every((p) => p.ready >= 1); i++) await page.waitForTimeout(200);
      assert.ok((await players()).every((p) => p.ready >= 1), JSON.stringify(await players()));
      const sizes = await card.locator('video').evaluateAll((videos) => videos.map((v) => [(v as HTMLVideoElement).videoWidth, (v as HTMLVideoElement).videoHeight]));
      assert.deepEqual(sizes, [[320, 240], [320, 240]]);
      await screenshot(page, 'video');
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
      await server.close();
    }
  });

  test('AUTH=on: without a key the page shows the 401; with one it completes, the key never in a URL; 413 and 429 are explained', async () => {
    // Budget of 3 requests (no refill within the test): one image, one job lookup, one more image; the next is a 429.
    const server = await startTestNode({ auth: 'on', apiKeys: `acme:${KEY}`, maxUploadBytes: 1024 * 1024, rateLimitPerMinute: 1, rateLimitBurst: 3 }, 'serve', { WORKERS: '1' });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const urls: string[] = [];
    page.on('request', (req) => urls.push(req.url()));
    page.on('websocket', (ws) => urls.push(ws.url()));
    try {
      await page.goto(`${server.url}/`);
      assert.equal(await page.getAttribute('#api-key', 'placeholder'), 'required (AUTH=on)');

      await upload(page, photo);
      const refused = await shownResult(page);
      assert.equal(refused.state, 'failed');
      assert.match(refused.error!, /^401 Unauthorized — UNAUTHENTICATED: .*Enter a valid API key above\.$/);
      assert.match((await page.textContent('#notice'))!, /^401 Unauthorized/);
      await screenshot(page, 'auth-refused');

      await page.fill('#api-key', KEY);
      await upload(page, photo);
      const shown = await shownResult(page);
      assert.equal(shown.state, 'completed', shown.error ?? '');
      const job = await jobRecord(server.url, shown.jobId!, { 'x-api-key': KEY });
      assert.equal(shown.faces, job.result.detections.filter((d: any) => d.kind === 'face').length);
      assert.ok(shown.loaded);
      assert.deepEqual([shown.width, shown.height], [job.result.width, job.result.height]);
      assert.equal(await page.evaluate(() => sessionStorage.getItem('pixveil.apiKey')), KEY);
      assert.ok(urls.some((u) => u.includes('/v1/stream')));
      assert.ok(!urls.some((u) => u.includes(KEY) || u.includes('access_token')), `the key went into a URL: ${urls.join(' ')}`);

      // Over the server's upload limit: refused in the page before sending, with the 413 it would get.
      await upload(page, [{ name: 'huge.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(2 * 1024 * 1024, 0xff) }]);
      assert.match((await shownResult(page)).error!, /^413 Payload Too Large — PAYLOAD_TOO_LARGE: huge\.jpg is 2\.0 MB, over this server's limit of 1\.0 MB/);

      // Over the tenant's rate limit: the second of two files gets the 429 with its retry time.
      const jpeg = fs.readFileSync(photo);
      await upload(page, [{ name: 'first.jpg', mimeType: 'image/jpeg', buffer: jpeg }, { name: 'second.jpg', mimeType: 'image/jpeg', buffer: jpeg }]);
      assert.equal((await shownResult(page, 1)).state, 'completed');
      assert.match((await shownResult(page, 0)).error!, /^429 Too Many Requests — RATE_LIMITED: .*retry after \d+s$/);
      await screenshot(page, 'auth-result');
    } finally {
      await page.close();
      await server.close();
    }
  });
});

describe('WS /v1/stream: the key as a subprotocol (what browsers can send)', () => {
  let server: TestNode;
  before(async () => {
    server = await startTestNode({ auth: 'on', apiKeys: `acme:${KEY}` }, 'serve', { WORKERS: '1' });
  });
  after(async () => server.close());

  const b64 = (s: string) => Buffer.from(s).toString('base64url');
  const attempt = (protocols: string[]) =>
    new Promise<{ status: number; protocol?: string; ws?: WebSocket }>((resolve, reject) => {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/stream`, protocols);
      ws.once('open', () => resolve({ status: 101, protocol: ws.protocol, ws }));
      ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
      ws.once('error', (err) => (ws.readyState === WebSocket.CLOSED ? undefined : reject(err)));
    });

  test('pixveil + pixveil.bearer.<base64url key> authenticates and selects "pixveil"; bad or lone tokens are refused', async () => {
    const ok = await attempt(['pixveil', `pixveil.bearer.${b64(KEY)}`]);
    assert.equal(ok.status, 101);
    assert.equal(ok.protocol, 'pixveil', 'the token is never echoed back');
    ok.ws!.close();
    assert.equal((await attempt(['pixveil', `pixveil.bearer.${b64('wrong-key-0123456789')}`])).status, 401);
    assert.equal((await attempt(['pixveil', 'pixveil.bearer.'])).status, 401);
    assert.equal((await attempt(['pixveil'])).status, 401);
    assert.equal((await attempt([`pixveil.bearer.${b64(KEY)}`])).status, 400);
  });
});
