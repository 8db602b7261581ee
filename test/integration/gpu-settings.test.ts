// A GPU asked for and not there stops start-up in one line (exit 2), never a silent CPU run; a
// running node says in /v1/health and /metrics which provider each model runs on.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadNativeAddon } from '../../src/addon/native.js';
import { probeInstalledProviders } from '../../src/models/execution-providers.js';
import { packageRoot } from '../../src/paths.js';
import { modelDir } from '../../harness/fixtures.js';
import { freePort } from '../../harness/free-port.js';
import { startTestNode, type TestNode } from '../../harness/server.js';

const cli = path.join(packageRoot, 'dist', 'src', 'cli.js');

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const cudaProviderInstalled = probeInstalledProviders().hasLibrary('libonnxruntime_providers_cuda.so');
const addon = loadNativeAddon();
const gpuVisible = addon.ok && addon.addon.cudaAvailable().available;

describe('GPU settings at start-up', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-gpu-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('EXECUTION_PROVIDERS=cuda without the CUDA provider: one line saying how to get it, exit 2, nothing served', { skip: cudaProviderInstalled ? 'the CUDA provider is installed here' : false }, async () => {
    const port = await freePort();
    const env = { MODEL_DIR: modelDir, MODEL_PULL_ON_START: 'false', DATA_DIR: path.join(tmp, 'data'), PORT: String(port), EXECUTION_PROVIDERS: 'cuda' };
    const serve = await run(['serve'], env);
    assert.equal(serve.code, 2, serve.stderr);
    assert.equal(serve.stdout, '');
    // Where the addon is not built, its own fallback note comes first; the refusal is the one other line.
    const lines = serve.stderr.split('\n').filter((l) => l && !l.startsWith('pixveil: native pixel ops unavailable'));
    assert.equal(lines.length, 1, serve.stderr);
    assert.match(lines[0], /^pixveil: EXECUTION_PROVIDERS=cuda: the installed onnxruntime-node \S+ cannot run cuda \(its libraries are not installed \([^)]*\)\); get them with ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci where the internet is reachable/);
    // The folder command builds the same pool and refuses the same way.
    fs.mkdirSync(path.join(tmp, 'in'), { recursive: true });
    const processed = await run(['process', path.join(tmp, 'in')], env);
    assert.equal(processed.code, 2, processed.stderr);
    assert.equal(processed.stderr.split('\n').filter((l) => l && !l.startsWith('pixveil: native pixel ops unavailable')).length, 1, processed.stderr);
    assert.match(processed.stderr, /EXECUTION_PROVIDERS=cuda: .*ONNXRUNTIME_NODE_INSTALL=cuda12/);
  });

  test('PIXEL_OPS=cuda without a GPU: one line, exit 2', { skip: gpuVisible ? 'a GPU is visible here' : !addon.ok ? 'native addon not built' : false }, async () => {
    const serve = await run(['serve'], { MODEL_DIR: modelDir, MODEL_PULL_ON_START: 'false', DATA_DIR: path.join(tmp, 'data'), PORT: String(await freePort()), PIXEL_OPS: 'cuda' });
    assert.equal(serve.code, 2, serve.stderr);
    assert.match(serve.stderr, /^pixveil: PIXEL_OPS=cuda but (the native addon was built without CUDA|no CUDA device answers)[^\n]*; set PIXEL_OPS=auto or native to blur on the CPU\n$/);
  });
});

describe('a running node reports its providers', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode({}, 'serve', { EXECUTION_PROVIDERS: 'cpu', POOL_THREADS: '1' });
  });
  after(() => node.close());

  test('/v1/health lists each model with the provider it runs on, and the pixel ops', async () => {
    const health = await (await fetch(`${node.url}/v1/health`)).json();
    assert.deepEqual(health.models, [
      { kind: 'faces', model: 'yunet-n', provider: 'cpu', providers: ['cpu'] },
      { kind: 'plates', model: 'yolov9-t-plates', provider: 'cpu', providers: ['cpu'] },
      { kind: 'objects', model: 'yolox-nano', provider: 'cpu', providers: ['cpu'] },
    ]);
    // No GPU here: auto runs the addon on the CPU (or TypeScript when it is not built).
    assert.equal(health.pixel_ops, gpuVisible ? 'cuda' : addon.ok ? 'native' : 'typescript');
  });

  test('/metrics has one pixveil_model_provider_info series per model', async () => {
    const text = await (await fetch(`${node.url}/metrics`)).text();
    for (const [kind, model] of [['faces', 'yunet-n'], ['plates', 'yolov9-t-plates'], ['objects', 'yolox-nano']]) {
      assert.match(text, new RegExp(`pixveil_model_provider_info\\{kind="${kind}",model="${model}",provider="cpu"\\} 1`));
    }
  });
});
