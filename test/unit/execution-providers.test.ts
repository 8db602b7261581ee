// EXECUTION_PROVIDERS reaches every model session as written, and a provider the installed
// onnxruntime-node cannot run is refused before any session is made.
import assert from 'node:assert/strict';
import path from 'node:path';
import { mock, test } from 'node:test';
import ort from 'onnxruntime-node';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { Detector } from '../../src/models/detector.js';
import { checkExecutionProviders, checkProvidersStart, missingProviders, modelProviders, probeInstalledProviders, type ProviderProbe } from '../../src/models/execution-providers.js';
import { loadManifests } from '../../src/models/manifest.js';
import { ImagePool } from '../../src/pool/image-pool.js';
import { poolOptionsFromConfig } from '../../src/pool/pool-options.js';
import { modelDir } from '../../harness/fixtures.js';

const linuxBinding: ProviderProbe['backends'] = [
  { name: 'cpu', bundled: true },
  { name: 'webgpu', bundled: true },
  { name: 'cuda', bundled: false },
  { name: 'tensorrt', bundled: false },
];

test('EXECUTION_PROVIDERS is an ordered list, cpu by default, and reaches the pool options as written', () => {
  assert.deepEqual(loadConfig({}).executionProviders, ['cpu']);
  assert.deepEqual(loadConfig({ EXECUTION_PROVIDERS: 'tensorrt, cuda,cpu' }).executionProviders, ['tensorrt', 'cuda', 'cpu']);
  assert.throws(() => loadConfig({ EXECUTION_PROVIDERS: 'cuda,gpu' }), /Expected a comma-separated list of cpu, cuda, tensorrt, webgpu for EXECUTION_PROVIDERS but received "cuda,gpu"/);
  assert.deepEqual(poolOptionsFromConfig(loadConfig({ EXECUTION_PROVIDERS: 'cpu' })).executionProviders, ['cpu']);
});

test('a provider counts as installed when bundled, or when its libraries sit beside the binding', () => {
  const none: ProviderProbe = { backends: linuxBinding, hasLibrary: () => false };
  assert.deepEqual(missingProviders(['cpu', 'webgpu'], none), []);
  assert.deepEqual(
    missingProviders(['cuda', 'cpu'], none).map((m) => m.name),
    ['cuda'],
  );
  assert.match(missingProviders(['cuda'], none)[0].why, /libonnxruntime_providers_shared\.so, libonnxruntime_providers_cuda\.so/);
  const cudaOnly: ProviderProbe = { backends: linuxBinding, hasLibrary: (f) => !f.includes('tensorrt') };
  assert.deepEqual(missingProviders(['cuda', 'cpu'], cudaOnly), []);
  assert.deepEqual(missingProviders(['tensorrt', 'cuda', 'cpu'], cudaOnly), [{ name: 'tensorrt', why: 'its libraries are not installed (libonnxruntime_providers_tensorrt.so)' }]);
  const cpuOnlyBuild: ProviderProbe = { backends: [{ name: 'cpu', bundled: true }], hasLibrary: () => true };
  assert.match(missingProviders(['cuda'], cpuOnlyBuild)[0].why, /not built into this onnxruntime-node \(it knows cpu\)/);
});

test('a missing provider is one line saying how to get it', () => {
  const err = (() => {
    try {
      checkExecutionProviders(['cuda', 'cpu'], { backends: linuxBinding, hasLibrary: () => false });
    } catch (e) {
      return e as Error;
    }
    return undefined;
  })();
  assert.ok(err instanceof ConfigError);
  assert.doesNotMatch(err.message, /\n/);
  assert.match(err.message, /^EXECUTION_PROVIDERS=cuda,cpu: the installed onnxruntime-node \S+ cannot run cuda \(its libraries are not installed/);
  assert.match(err.message, /ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci where the internet is reachable/);
});

test('this machine: cpu is installed; cuda is refused unless its libraries are there', () => {
  const probe = probeInstalledProviders();
  assert.doesNotThrow(() => checkExecutionProviders(['cpu'], probe));
  assert.ok(probe.backends.some((b) => b.name === 'cpu' && b.bundled), JSON.stringify(probe.backends));
  if (!probe.hasLibrary('libonnxruntime_providers_cuda.so')) assert.throws(() => checkExecutionProviders(['cuda'], probe), ConfigError);
});

test('each session is created with exactly the providers asked for (spy on onnxruntime)', async (t) => {
  const create = mock.method(ort.InferenceSession, 'create');
  t.after(() => create.mock.restore());
  const yolox = loadManifests().get('yolox-nano')!;
  const config = loadConfig({ EXECUTION_PROVIDERS: 'cpu', ORT_INTRA_OP_THREADS: '2' });
  const options = poolOptionsFromConfig(config);
  const detector = await Detector.load(yolox, path.join(modelDir, yolox.file), { intraOpThreads: options.intraOpThreads, executionProviders: options.executionProviders });
  assert.ok(detector);
  assert.equal(create.mock.callCount(), 1);
  const [file, given] = create.mock.calls[0].arguments as unknown as [string, ort.InferenceSession.SessionOptions];
  assert.equal(file, path.join(modelDir, yolox.file));
  assert.deepEqual(given.executionProviders, ['cpu']);
  assert.equal(given.intraOpNumThreads, 2);
});

test('pool threads hand the list to onnxruntime: a pool told cuda fails in its threads with onnxruntime\'s own CUDA error', { skip: probeInstalledProviders().hasLibrary('libonnxruntime_providers_cuda.so') ? 'the CUDA provider is installed here' : false }, async () => {
  const base = poolOptionsFromConfig(loadConfig({ MODEL_DIR: modelDir, POOL_THREADS: '1', FACE_MODEL: '', PLATE_MODEL: '' }));
  // Built by hand past the start-up check, to see what the thread's sessions were given.
  const pool = new ImagePool({ ...base, executionProviders: ['cuda', 'cpu'] });
  try {
    await assert.rejects(pool.warmUp(), /Cuda|CUDA|providers_shared/);
  } finally {
    await pool.close();
  }
  const cpu = new ImagePool({ ...base, executionProviders: ['cpu'] });
  try {
    await cpu.warmUp();
  } finally {
    await cpu.close();
  }
});

test('health and metrics name each configured model with the first provider of its list', () => {
  const models = { faces: { name: 'yunet-n' }, plates: undefined, objects: { name: 'yolox-nano' } };
  assert.deepEqual(modelProviders(models, ['cuda', 'cpu']), [
    { kind: 'faces', model: 'yunet-n', provider: 'cuda', providers: ['cuda', 'cpu'] },
    { kind: 'objects', model: 'yolox-nano', provider: 'cuda', providers: ['cuda', 'cpu'] },
  ]);
});

test('an installed provider that cannot start a session (no device) is one line too, before the pool starts', async (t) => {
  const yolox = loadManifests().get('yolox-nano')!;
  const file = path.join(modelDir, yolox.file);
  const webgpuStarts = await ort.InferenceSession.create(file, { executionProviders: ['webgpu'], logSeverityLevel: 3 }).then(
    async (s) => (await s.release(), true),
    () => false,
  );
  const create = mock.method(ort.InferenceSession, 'create');
  t.after(() => create.mock.restore());
  await checkProvidersStart(['cpu'], file);
  assert.equal(create.mock.callCount(), 0, 'cpu alone needs no probe session');
  if (webgpuStarts) return t.skip('a WebGPU adapter answers here');
  // webgpu ships inside onnxruntime-node, so the library check passes; this machine has no adapter.
  await assert.rejects(checkProvidersStart(['webgpu', 'cpu'], file), (err: Error) => {
    assert.ok(err instanceof ConfigError);
    assert.doesNotMatch(err.message, /\n/);
    assert.match(err.message, /^EXECUTION_PROVIDERS=webgpu,cpu: onnxruntime could not start a session on them \(.+\); check the GPU, its driver and the CUDA\/cuDNN libraries, or set EXECUTION_PROVIDERS=cpu$/);
    return true;
  });
});
