import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { packageRoot } from '../../src/paths.js';
import { darknetDir, facesDir } from '../helpers/fixtures.js';
import { startModelHost } from '../helpers/model-host.js';
import { uploadFile, waitForJob } from '../helpers/server.js';
import { freePort } from '../helpers/free-port.js';

const cli = path.join(packageRoot, 'dist', 'src', 'cli.js');


function run(args: string[], env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
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
      assert.deepEqual(fs.readdirSync(modelDir).sort(), ['version-RFB-320.onnx', 'y5fu_320x_sim.onnx', 'yolox_nano.onnx']);
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
    assert.match(proc.output(), /pixveil: Checksum mismatch for (ultraface-rfb-320|yolox-nano|hyperlpr-y5fu-320)/);
  });

  test('bad configuration and distributed roles without Redis fail with a clear message', async () => {
    const bad = run(['serve'], { PORT: 'eighty' });
    assert.equal(await bad.exited, 2);
    assert.match(bad.output(), /Expected an integer between 0 and 65535 for PORT but received "eighty"/);
    const api = run(['api'], { MODEL_DIR: path.join(tmp, 'models'), REDIS_URL: '' });
    assert.notEqual(await api.exited, 0);
    assert.match(api.output(), /needs REDIS_URL/);
  });

  test('process <dir> anonymizes a folder without a server', async () => {
    const input = path.join(tmp, 'in');
    fs.mkdirSync(input);
    fs.copyFileSync(path.join(facesDir, 'uf_3.jpg'), path.join(input, 'uf_3.jpg'));
    fs.copyFileSync(path.join(darknetDir, 'dog.jpg'), path.join(input, 'dog.jpg'));
    const proc = run(['process', input], { MODEL_DIR: path.join(tmp, 'models'), WORKERS: '1' });
    assert.equal(await proc.exited, 0, proc.output());
    const out = path.join(input, 'anonymized');
    assert.deepEqual(fs.readdirSync(out).sort(), ['dog.jpg', 'dog.json', 'uf_3.jpg', 'uf_3.json']);
    const record = JSON.parse(fs.readFileSync(path.join(out, 'uf_3.json'), 'utf8'));
    assert.ok(record.detections.filter((d: any) => d.kind === 'face' && d.blurred).length >= 5);
  });
});
