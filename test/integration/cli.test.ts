import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { packageRoot } from '../../src/paths.js';
import { darknetDir, facesDir, modelDir } from '../../harness/fixtures.js';
import { startModelHost } from '../../harness/model-host.js';
import { uploadFile, waitForJob } from '../../harness/server.js';
import { freePort } from '../../harness/free-port.js';
import { startRedisServer } from '../../harness/redis-server.js';
import { startS3Server } from '../../harness/s3-server.js';

const cli = path.join(packageRoot, 'dist', 'src', 'cli.js');


function run(args: string[], env: Record<string, string>, cwd?: string): { child: ChildProcess; output: () => string; stdout: () => string; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], cwd });
  let output = '';
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => ((output += d), (stdout += d)));
  child.stderr!.on('data', (d) => ((output += d), (stderr += d)));
  // 'close', not 'exit': every byte of both pipes has arrived by then.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => output, stdout: () => stdout, stderr: () => stderr, exited };
}

async function waitReady(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(`${url}/v1/ready`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms`);
}

describe('the pixveil command', () => {
  let host: Awaited<ReturnType<typeof startModelHost>>;
  let tmp: string;
  before(async () => {
    host = await startModelHost();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-cli-'));
  });
  after(async () => {
    await host.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('serve on a fresh machine: pulls missing models, serves, anonymizes, exits cleanly on SIGTERM', async () => {
    const port = await freePort();
    const modelDir = path.join(tmp, 'models');
    const proc = run(['serve'], { PORT: String(port), MODEL_DIR: modelDir, DATA_DIR: path.join(tmp, 'data'), MODEL_MIRROR: host.url, WORKERS: '1' });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(url);
      assert.deepEqual(fs.readdirSync(modelDir).sort(), ['yolo-v9-t-416-license-plates-end2end1.onnx', 'yolox_nano.onnx', 'yunet_n_dynamic.onnx']);
      assert.match(proc.output(), /pulling yolox-nano 100%/);
      const res = await uploadFile(url, fs.readFileSync(path.join(darknetDir, 'dog.jpg')), 'dog.jpg');
      assert.equal((await waitForJob(url, (await res.json()).job_id)).status, 'completed');
    } finally {
      proc.child.kill('SIGTERM');
    }
    assert.equal(await proc.exited, 0, proc.output());
    assert.match(proc.output(), /shutting down/);
  });

  test('a model that cannot be fetched stops start-up with a message naming the file and the source', async () => {
    const proc = run(['serve'], { PORT: String(await freePort()), MODEL_DIR: path.join(tmp, 'empty'), MODEL_MIRROR: `${host.url}/corrupt`, DATA_DIR: path.join(tmp, 'data2') });
    assert.equal(await proc.exited, 2);
    assert.match(proc.output(), /pixveil: Checksum mismatch for (yunet-n|yolox-nano|yolov9-t-plates)/);
  });

  test('bad configuration and distributed roles without Redis fail with a clear message', async () => {
    const bad = run(['serve'], { PORT: 'eighty' });
    assert.equal(await bad.exited, 2);
    assert.match(bad.output(), /Expected an integer between 0 and 65535 for PORT but received "eighty"/);
    const api = run(['api'], { MODEL_DIR: path.join(tmp, 'models'), REDIS_URL: '' });
    assert.notEqual(await api.exited, 0);
    assert.match(api.output(), /needs REDIS_URL/);
  });

  test('a broken manifest of your own (MODEL_MANIFEST_DIR): one line naming the file and what is wrong, exit 2', async () => {
    const dir = path.join(tmp, 'manifests');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'mine.json'), '{"name": "mine"}');
    const missing = run(['models', 'list'], { MODEL_MANIFEST_DIR: dir });
    assert.equal(await missing.exited, 2);
    assert.equal(missing.stderr().trim(), `pixveil: Invalid model manifest ${path.join(dir, 'mine.json')}: task is missing; it must be one of faces, plates, objects`);
    fs.writeFileSync(path.join(dir, 'mine.json'), '{"name": ');
    const notJson = run(['serve'], { MODEL_MANIFEST_DIR: dir, PORT: String(await freePort()) });
    assert.equal(await notJson.exited, 2);
    assert.match(notJson.stderr().trim(), /^pixveil: Invalid model manifest \S+mine\.json: not JSON \(.+\)$/);
  });

  test('process <dir> anonymizes a folder without a server', async () => {
    const input = path.join(tmp, 'in');
    fs.mkdirSync(input);
    fs.copyFileSync(path.join(facesDir, 'uf_3.jpg'), path.join(input, 'uf_3.jpg'));
    fs.copyFileSync(path.join(darknetDir, 'dog.jpg'), path.join(input, 'dog.jpg'));
    const proc = run(['process', input], { MODEL_DIR: path.join(tmp, 'models'), WORKERS: '1' });
    assert.equal(await proc.exited, 0, proc.output());
    const out = path.join(input, 'anonymized');
    assert.deepEqual(fs.readdirSync(out).sort(), ['dog.jpg', 'dog.jpg.json', 'uf_3.jpg', 'uf_3.jpg.json']);
    const record = JSON.parse(fs.readFileSync(path.join(out, 'uf_3.jpg.json'), 'utf8'));
    assert.ok(record.detections.filter((d: any) => d.kind === 'face' && d.blurred).length >= 5);
  });
});

/** Runs the real CLI to the end; `summary` is the JSON `process` prints on stdout. */
async function finish(args: string[], env: Record<string, string> = {}) {
  const proc = run(args, { MODEL_DIR: modelDir, MODEL_PULL_ON_START: 'false', POOL_THREADS: '1', ...env });
  const code = await proc.exited;
  let summary: any;
  try {
    summary = JSON.parse(proc.stdout());
  } catch {
    summary = undefined;
  }
  return { code, stdout: proc.stdout(), stderr: proc.stderr(), output: proc.output(), summary };
}

function assertOneLineError(result: { code: number | null; stderr: string; stdout: string }, pattern: RegExp, usageHint = true) {
  assert.equal(result.code, 2, result.stderr);
  const lines = result.stderr.trim().split('\n');
  assert.match(lines[0], pattern);
  assert.ok(lines.length <= 3, `one line, maybe a suggestion, and a usage hint: ${result.stderr}`);
  if (usageHint) assert.match(lines.at(-1)!, /--help' for usage/);
  else assert.equal(lines.length, 1, result.stderr);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
  assert.equal(result.stdout, '');
}

describe('pixveil command line parsing', () => {
  test('--version prints package.json version; --help lists every command', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8'));
    const v = await finish(['--version']);
    assert.equal(v.code, 0);
    assert.equal(v.stdout.trim(), version);
    const help = await finish(['--help']);
    assert.equal(help.code, 0);
    for (const command of ['serve', 'api', 'worker', 'process', 'models', 'dlq', 'keys']) assert.match(help.stdout, new RegExp(`^  ${command}\\b`, 'm'));
  });

  test('process --help shows every flag and opens no folder; serve --help starts no server', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-help-'));
    try {
      const help = await finish(['process', '--help']);
      assert.equal(help.code, 0, help.output);
      for (const flag of ['--blur', '--shape', '--detect', '--face-threshold', '--plate-threshold', '--object-threshold', '--blur-classes', '--format', '--quality', '--metadata', '--recursive', '--force', '--report']) {
        assert.ok(help.stdout.includes(flag), `${flag} in process --help`);
      }
      const serve = run(['serve', '--help'], { PORT: String(await freePort()) }, cwd);
      assert.equal(await serve.exited, 0, serve.output());
      assert.match(serve.stdout(), /Usage: pixveil serve/);
      assert.doesNotMatch(serve.output(), /listening/);
      assert.deepEqual(fs.readdirSync(cwd), [], 'no data folder made, no --help folder read');
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
    for (const sub of [['models', '--help'], ['dlq', 'retry', '--help'], ['keys', 'hash', '--help'], ['api', '--help'], ['worker', '--help']]) {
      const r = await finish(sub);
      assert.equal(r.code, 0, `${sub.join(' ')}: ${r.output}`);
      assert.match(r.stdout, /^Usage: pixveil /);
    }
  });

  test('unknown commands and flags: one line on stderr, a usage hint, exit 2', async () => {
    assertOneLineError(await finish(['procss', 'photos']), /^pixveil: unknown command 'procss'/);
    assertOneLineError(await finish(['process', 'photos', '--blurr', 'solid']), /^pixveil: unknown option '--blurr'/);
    assertOneLineError(await finish(['--verbose']), /^pixveil: unknown option '--verbose'/);
    assertOneLineError(await finish(['process']), /^pixveil: missing required argument 'in'/);
    assertOneLineError(await finish(['process', 'photos', '--in-flight', '0']), /^pixveil: option '--in-flight <n>' argument '0' is invalid/);
  });
});

describe('pixveil process on real photos', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-process-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('wrong path, a file instead of a folder, a bad option value: one clean line, exit 2, nothing written', async () => {
    assertOneLineError(await finish(['process', path.join(tmp, 'missing')]), /^pixveil: No such folder: .*missing$/, false);
    const file = path.join(tmp, 'photo.jpg');
    fs.copyFileSync(path.join(facesDir, 'uf_3.jpg'), file);
    assertOneLineError(await finish(['process', file]), /^pixveil: .*photo\.jpg is a file, not a folder/, false);
    const input = path.join(tmp, 'opts');
    fs.mkdirSync(input);
    assertOneLineError(await finish(['process', input, '--blur', 'fuzzy']), /^pixveil: Expected one of gaussian, pixelate, solid for --blur but received fuzzy/, false);
    assertOneLineError(await finish(['process', input, '--face-threshold', '1.5']), /for --face-threshold/, false);
    assertOneLineError(await finish(['process', input, '--metadata', 'all']), /Expected one of strip, safe for --metadata/, false);
    assertOneLineError(await finish(['process', input, '--blur-classes', 'unicorn']), /for --blur-classes but received unicorn/, false);
    assert.deepEqual(fs.readdirSync(input), [], 'no output folder for a refused command line');
  });

  test('x.jpg and x.jpeg both kept, a dir.jpg subfolder is a folder, failures reported apart: exit 1 and a JSONL report', async () => {
    const input = path.join(tmp, 'mixed');
    fs.mkdirSync(path.join(input, 'dir.jpg'), { recursive: true });
    fs.copyFileSync(path.join(facesDir, 'uf_3.jpg'), path.join(input, 'x.jpg'));
    fs.copyFileSync(path.join(darknetDir, 'dog.jpg'), path.join(input, 'x.jpeg'));
    // A file already named what x.jpeg would become: x.jpeg moves aside to x.jpeg~.jpg.
    fs.copyFileSync(path.join(facesDir, 'uf_2.jpg'), path.join(input, 'x.jpeg.jpg'));
    fs.copyFileSync(path.join(facesDir, 'uf_2.jpg'), path.join(input, 'dir.jpg', 'inside.jpg'));
    fs.writeFileSync(path.join(input, 'broken.png'), 'not a png at all');
    fs.symlinkSync(path.join(input, 'gone.jpg'), path.join(input, 'unreadable.jpg'));
    const out = path.join(tmp, 'mixed-out');
    const r = await finish(['process', input, out]);
    assert.equal(r.code, 1, r.output);
    assert.deepEqual(fs.readdirSync(out).sort(), ['failures.jsonl', 'x.jpeg.jpg', 'x.jpeg.jpg.json', 'x.jpeg~.jpg', 'x.jpeg~.jpg.json', 'x.jpg', 'x.jpg.json']);
    for (const [output, from] of [['x.jpg', 'x.jpg'], ['x.jpeg~.jpg', 'x.jpeg'], ['x.jpeg.jpg', 'x.jpeg.jpg']]) {
      const record = JSON.parse(fs.readFileSync(path.join(out, `${output}.json`), 'utf8'));
      assert.deepEqual([record.file, record.output], [from, output]);
      const { width } = JSON.parse(fs.readFileSync(path.join(out, `${output}.json`), 'utf8'));
      assert.equal(width, (await sharp(path.join(input, from)).metadata()).width, `${output} is ${from} anonymized`);
    }
    assert.equal(r.summary.processed, 3);
    assert.equal(r.summary.skipped, 0);
    assert.equal(r.summary.failed, 2);
    assert.ok(r.summary.images_per_second > 0);
    const failures = fs.readFileSync(path.join(out, 'failures.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(failures.map((f) => [f.file, f.code]).sort(), [['broken.png', 'UNDECODABLE_IMAGE'], ['unreadable.jpg', 'READ_ERROR']]);
    assert.equal(r.summary.report, path.join(out, 'failures.jsonl'));
    assert.match(r.stderr, /^done 5\/5 \(processed 3, skipped 0, failed 2\) [\d.]+ images\/s/m, 'plain progress lines without a terminal');
  });

  test('resumable: a rerun skips finished images, a newer input is redone, --force redoes all', async () => {
    const input = path.join(tmp, 'resume');
    fs.mkdirSync(input);
    fs.copyFileSync(path.join(facesDir, 'uf_3.jpg'), path.join(input, 'a.jpg'));
    fs.copyFileSync(path.join(darknetDir, 'dog.jpg'), path.join(input, 'b.jpg'));
    const first = await finish(['process', input]);
    assert.equal(first.code, 0, first.output);
    assert.deepEqual([first.summary.processed, first.summary.skipped, first.summary.failed], [2, 0, 0]);
    assert.equal(first.summary.report, null);
    const again = await finish(['process', input]);
    assert.deepEqual([again.summary.processed, again.summary.skipped, again.summary.failed], [0, 2, 0]);
    assert.equal(again.summary.images_per_second, 0, 'skipped images are not counted as processed');
    // An input newer than its outputs (outputs dated back rather than the input forward, so the
    // rerun's fresh outputs are newer again whatever the clock does).
    const older = new Date(Date.now() - 3_600_000);
    for (const f of ['b.jpg', 'b.jpg.json']) fs.utimesSync(path.join(input, 'anonymized', f), older, older);
    const touched = await finish(['process', input]);
    assert.deepEqual([touched.summary.processed, touched.summary.skipped], [1, 1]);
    fs.rmSync(path.join(input, 'anonymized', 'a.jpg.json'));
    const partial = await finish(['process', input]);
    assert.deepEqual([partial.summary.processed, partial.summary.skipped], [1, 1], 'an image without its JSON is redone');
    const forced = await finish(['process', input, '--force']);
    assert.deepEqual([forced.summary.processed, forced.summary.skipped], [2, 0]);
  });

  test('on a terminal: a redrawn progress bar with images/s and ETA', async () => {
    // util-linux `script` (Debian's essential bsdutils) gives the CLI a pseudo-terminal as stderr.
    const input = path.join(tmp, 'tty');
    fs.mkdirSync(input);
    for (const name of ['uf_2.jpg', 'uf_3.jpg']) fs.copyFileSync(path.join(facesDir, name), path.join(input, name));
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const command = [process.execPath, cli, 'process', input].map(quote).join(' ');
    const child = spawn('script', ['-qec', `${command} >/dev/null`, '/dev/null'], { env: { ...process.env, MODEL_DIR: modelDir, POOL_THREADS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout!.on('data', (d) => (screen += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, screen);
    assert.match(screen, /\[#+-*\] \d+% \d\/2 \(processed \d, skipped 0, failed 0\) [\d.]+ images\/s ETA \S+/);
    assert.ok(screen.includes('\r\x1b[2K'), 'the bar is redrawn in place');
  });

  test('--recursive keeps the folder structure under out and never walks into out; flags reach the pipeline', async () => {
    const input = path.join(tmp, 'tree');
    fs.mkdirSync(path.join(input, 'day1', 'cam2'), { recursive: true });
    fs.copyFileSync(path.join(facesDir, 'uf_3.jpg'), path.join(input, 'top.jpg'));
    fs.copyFileSync(path.join(facesDir, 'uf_2.jpg'), path.join(input, 'day1', 'a.jpg'));
    fs.copyFileSync(path.join(darknetDir, 'dog.jpg'), path.join(input, 'day1', 'cam2', 'b.jpg'));
    fs.symlinkSync(input, path.join(input, 'day1', 'back-to-top'));
    const flat = await finish(['process', input, '--detect', 'faces']);
    assert.equal(flat.summary.processed, 1, 'without --recursive only the top folder');
    const r = await finish(['process', input, '--recursive', '--format', 'png', '--detect', 'faces', '--blur', 'solid']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual([r.summary.processed, r.summary.skipped, r.summary.failed], [3, 0, 0], 'anonymized/ itself is not input, a link back up is not followed');
    const out = path.join(input, 'anonymized');
    for (const rel of ['top.jpg.png', 'day1/a.jpg.png', 'day1/cam2/b.jpg.png']) {
      assert.ok(fs.existsSync(path.join(out, rel)) && fs.existsSync(path.join(out, `${rel}.json`)), rel);
      assert.equal(fs.readFileSync(path.join(out, rel)).subarray(1, 4).toString(), 'PNG', `${rel} is a PNG`);
    }
    const record = JSON.parse(fs.readFileSync(path.join(out, 'day1/cam2/b.jpg.png.json'), 'utf8'));
    assert.equal(record.file, path.join('day1', 'cam2', 'b.jpg'));
    assert.ok(record.detections.every((d: any) => d.kind === 'face'), '--detect faces: no objects or plates');
  });
});

describe('set-up errors of serve, api, worker and dlq: one line on stderr, exit 2, no stack (issue 21)', () => {
  const oneLine = (result: { code: number | null; stderr: string }, pattern: RegExp) => {
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`);
    assert.match(result.stderr.trim(), pattern);
    assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
  };

  test('Redis unreachable: the URL (password hidden) and why, for every role and dlq', async () => {
    const port = await freePort();
    const url = `redis://user:hunter2-secret@127.0.0.1:${port}`;
    for (const args of [['serve'], ['api'], ['worker'], ['dlq', 'list']]) {
      const result = await finish(args, { REDIS_URL: url, PORT: String(await freePort()) });
      oneLine(result, new RegExp(`^pixveil: Redis at redis://\\*\\*\\*@127\\.0\\.0\\.1:${port} \\(REDIS_URL\\) cannot be used: connect ECONNREFUSED`));
      assert.doesNotMatch(result.output, /hunter2/, `${args.join(' ')} never prints the password`);
      assert.equal(result.stdout, '', `${args.join(' ')}: no log lines about the refused connection`);
    }
  });

  test('Redis without persistence: what to turn on, for every role', async () => {
    const redis = await startRedisServer();
    try {
      for (const role of ['serve', 'api', 'worker']) {
        oneLine(await finish([role], { REDIS_URL: redis.url, PORT: String(await freePort()) }), /^pixveil: Redis at REDIS_URL has no persistence: .*ALLOW_VOLATILE_REDIS=true/);
      }
    } finally {
      await redis.destroy();
    }
  });

  test('a missing S3 bucket and an unreachable S3 endpoint: which bucket and what to fix, for every role', async () => {
    const s3 = await startS3Server();
    const s3Env = (bucket: string, endpoint = s3.endpoint) => ({
      S3_BUCKET: bucket, S3_ENDPOINT: endpoint, S3_FORCE_PATH_STYLE: 'true', AWS_REGION: s3.region,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    });
    const redis = await startRedisServer({ aof: true });
    try {
      for (const role of ['serve', 'api', 'worker']) {
        const env = { ...s3Env('no-such-bucket'), REDIS_URL: redis.url, PORT: String(await freePort()) };
        oneLine(await finish([role], env), /^pixveil: Storage S3 bucket no-such-bucket is not usable: .*S3 bucket no-such-bucket not found at endpoint http:\/\/127\.0\.0\.1:\d+\. Create it or fix S3_BUCKET \/ S3_ENDPOINT/);
      }
      const away = await finish(['serve'], { ...s3Env(s3.bucket, `http://127.0.0.1:${await freePort()}`), PORT: String(await freePort()) });
      oneLine(away, /^pixveil: Storage S3 bucket \S+ is not usable: S3 endpoint http:\/\/127\.0\.0\.1:\d+ is unreachable/);
    } finally {
      await redis.destroy();
      await s3.stop();
    }
  });

  test('api and worker without REDIS_URL: one line naming REDIS_URL', async () => {
    for (const role of ['api', 'worker']) oneLine(await finish([role], { REDIS_URL: '' }), /^pixveil: "pixveil (api|worker)" runs one half of a distributed deployment and needs REDIS_URL/);
  });
});
