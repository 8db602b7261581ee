// Starts a real `pixveil serve` (embedded mode: memory queue, local storage), waits for
// /v1/ready and returns every metric name /metrics exports, histogram series included.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Names from "# TYPE" lines, so labelled series that saw no sample yet still count. */
export function exportedNames(text) {
  const names = new Set();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m;
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}

export async function scrapeRunningPixveil(repo, modelDir, timeoutMs = 120_000) {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-deploy-check-'));
  let log = '';
  const child = spawn(process.execPath, [path.join(repo, 'dist/src/cli.js'), 'serve'], {
    cwd: repo,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir, MODEL_DIR: modelDir, MODEL_PULL_ON_START: 'false', WORKERS: '1', REDIS_URL: '', S3_BUCKET: '', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const base = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`pixveil serve exited with ${child.exitCode} before it was ready:\n${log.slice(-3000)}`);
      const ready = await fetch(`${base}/v1/ready`).then((r) => r.ok, () => false);
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`pixveil serve not ready within ${timeoutMs / 1000}s:\n${log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const res = await fetch(`${base}/metrics`);
    if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
    return { port, names: exportedNames(await res.text()) };
  } finally {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    await exited;
    clearTimeout(killer);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
