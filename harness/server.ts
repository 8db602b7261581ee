import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startNode, type PixveilNode, type Role } from '../src/commands/node.js';
import { loadConfig, type Config } from '../src/config/config.js';
import { silentLogger } from '../src/observability/logger.js';
import { modelDir } from './fixtures.js';

export interface TestNode {
  node: PixveilNode;
  url: string;
  dataDir: string;
  close(): Promise<void>;
}

/** A real pixveil node on a free port with its own data directory; models from ../shared/models. */
export async function startTestNode(overrides: Partial<Config> = {}, role: Role = 'serve', env: Record<string, string> = {}): Promise<TestNode> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-test-'));
  const config = loadConfig({ MODEL_DIR: modelDir, DATA_DIR: dataDir, PORT: '0', MODEL_PULL_ON_START: 'false', POOL_THREADS: '2', LATENCY_SLO_SECONDS: '0', ...env }, overrides);
  const node = await startNode(config, role, silentLogger);
  return {
    node,
    url: `http://127.0.0.1:${node.port}`,
    dataDir,
    close: async () => {
      await node.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function uploadFile(url: string, bytes: Buffer, filename: string, query = '', route = '/v1/images'): Promise<Response> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)]), filename);
  return fetch(`${url}${route}${query}`, { method: 'POST', body: form });
}

export async function waitForJob(url: string, jobId: string, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}/v1/jobs/${jobId}?wait=5s`);
    const body = await res.json();
    if (body.status === 'completed' || body.status === 'failed') return body;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${body.status} after ${timeoutMs} ms`);
  }
}
