import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { sharesBatchAxis } from '../../src/models/batch-tensors.js';
import { Detector } from '../../src/models/detector.js';
import { InferenceHost } from '../../src/models/inference-host.js';
import { loadManifests } from '../../src/models/manifest.js';
import { openOrtSession } from '../../src/models/model-session.js';
import type { RawDetection } from '../../src/models/postprocess/candidates.js';
import { InferenceClient } from '../../src/models/remote-session.js';
import { decodeImage } from '../../src/pipeline/decode.js';
import { batchSettingsFromConfig } from '../../src/pool/batch-inference.js';
import { facesDir, modelDir } from '../../harness/fixtures.js';

const manifests = loadManifests();
const settings = { intraOpThreads: 1, executionProviders: ['cpu'] };
const fileOf = (name: string) => path.join(modelDir, manifests.get(name)!.file);

/** An inference host as the inference thread runs it, with one port per simulated pool thread. */
function startHost(batchImages: number, batchWaitMs: number) {
  const host = new InferenceHost({ batchImages, batchWaitMs, openSession: (name) => openOrtSession(fileOf(name), settings) });
  const clients: InferenceClient[] = [];
  const hostPorts: Array<import('node:worker_threads').MessagePort> = [];
  const connect = () => {
    const { port1, port2 } = new MessageChannel();
    host.serve(port2);
    hostPorts.push(port2);
    const client = new InferenceClient(port1);
    clients.push(client);
    return client;
  };
  const stop = async () => {
    for (const c of clients) c.close('test over');
    for (const p of hostPorts) p.close();
    await host.close('test over');
  };
  return { host, connect, hostPorts, stop };
}

/** Four real photos at one size, so YuNet's inputs share a shape. */
async function samePhotos(count = 4) {
  const files = fs.readdirSync(facesDir).slice(0, count);
  return Promise.all(files.map(async (f) => (await decodeImage(await sharp(path.join(facesDir, f)).rotate().resize(1280, 720, { fit: 'cover' }).jpeg({ quality: 92 }).toBuffer(), 50_000_000)).image));
}

function assertSame(got: RawDetection[], want: RawDetection[], what: string): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} detections joined, ${want.length} alone`);
  for (const [i, d] of got.entries()) {
    for (const key of ['x1', 'y1', 'x2', 'y2', 'score'] as const) assert.ok(Math.abs(d[key] - want[i][key]) <= 1e-3, `${what} #${i} ${key}: ${d[key]} vs ${want[i][key]}`);
  }
}

test('YuNet: four images joined into one run find the same faces as four runs of a local session (boxes within 1e-3)', async () => {
  const images = await samePhotos();
  const yunet = manifests.get('yunet-n')!;
  const inputSize = { width: 1280, height: 736 };
  const local = await Detector.load(yunet, fileOf('yunet-n'), settings);
  const want: RawDetection[][] = [];
  for (const image of images) want.push(await local.detect(image, 0.5, undefined, { inputSize }));
  await local.release();
  const { host, connect, stop } = startHost(4, 10_000);
  try {
    // One pool thread per image, as in the pool: each its own port and Detector.
    const detectors = await Promise.all(images.map(async () => Detector.open(yunet, fileOf('yunet-n'), await connect().open('yunet-n'))));
    const got = await Promise.all(detectors.map((d, i) => d.detect(images[i], 0.5, undefined, { inputSize })));
    got.forEach((g, i) => assertSame(g, want[i], `image ${i}`));
    assert.ok(want.flat().length >= 4, 'the photos show faces');
    assert.deepEqual(host.stats['yunet-n'], { runs: 1, requests: 4, items: 4 }, 'one run for the four images, flushed at BATCH_IMAGES long before the wait');
    // The input tensor's memory came back to each pool thread: a second pass reuses it (same answer).
    assertSame(await detectors[0].detect(images[0], 0.5, undefined, { inputSize }), want[0], 'second pass');
  } finally {
    await stop();
  }
});

test('a batch-1 export (YOLOX-nano) runs once per image, and a lone YuNet request runs after BATCH_WAIT_MS', async () => {
  const images = await samePhotos();
  const { host, connect, stop } = startHost(4, 40);
  try {
    const yolox = manifests.get('yolox-nano')!;
    const detectors = await Promise.all(images.map(async () => Detector.open(yolox, fileOf('yolox-nano'), await connect().open('yolox-nano'))));
    const local = await Detector.load(yolox, fileOf('yolox-nano'), settings);
    const got = await Promise.all(detectors.map((d, i) => d.detect(images[i], 0.3)));
    for (const [i, image] of images.entries()) assertSame(got[i], await local.detect(image, 0.3), `yolox image ${i}`);
    await local.release();
    assert.deepEqual(host.stats['yolox-nano'], { runs: 4, requests: 4, items: 4 });
    const yunet = await Detector.open(manifests.get('yunet-n')!, fileOf('yunet-n'), await connect().open('yunet-n'));
    const start = performance.now();
    await yunet.detect(images[0], 0.5, undefined, { inputSize: { width: 640, height: 384 } });
    assert.ok(performance.now() - start >= 39, 'the lone request waited for company');
    assert.deepEqual(host.stats['yunet-n'], { runs: 1, requests: 1, items: 1 });
  } finally {
    await stop();
  }
});

test('a run that fails in the inference thread fails its requests with the model and the reason; others in flight still answer', async () => {
  const { connect, stop } = startHost(4, 20);
  try {
    const session = await connect().open('yunet-n');
    const good = session.run({ input: new ort.Tensor('float32', new Float32Array(3 * 64 * 64), [1, 3, 64, 64]) });
    const bad = session.run({ input: new ort.Tensor('float32', new Float32Array(5 * 64 * 64), [1, 5, 64, 64]) });
    await assert.rejects(bad, /Inference of model yunet-n failed in the inference thread \(1 image in the run\): .+/);
    assert.ok((await good).outputs.cls_8.dims[0] === 1);
    await assert.rejects(connect().open('no-such-model'), /The inference thread could not open model no-such-model: /);
  } finally {
    await stop();
  }
});

test('a run transfers the input to the inference thread (the caller’s copy is detached) and hands the same memory back', async () => {
  const { connect, stop } = startHost(1, 0);
  try {
    const session = await connect().open('yolox-nano');
    const input = new Float32Array(3 * 416 * 416).fill(114);
    const run = await session.run({ images: new ort.Tensor('float32', input, [1, 3, 416, 416]) });
    assert.equal(input.buffer.byteLength, 0, 'transferred, not copied');
    const back = run.returned!.images as Float32Array;
    assert.equal(back.length, 3 * 416 * 416);
    assert.equal(back[0], 114);
    assert.deepEqual(run.outputs.output.dims, [1, 3549, 85]);
  } finally {
    await stop();
  }
});

test('requests waiting when the inference side goes away fail at once instead of hanging', async () => {
  const { connect, hostPorts, stop } = startHost(4, 60_000);
  try {
    const client = connect();
    const session = await client.open('yunet-n');
    const waiting = session.run({ input: new ort.Tensor('float32', new Float32Array(3 * 64 * 64), [1, 3, 64, 64]) });
    hostPorts[0].close();
    await assert.rejects(waiting, /Model inference failed: the inference thread stopped/);
    await assert.rejects(session.run({ input: new ort.Tensor('float32', new Float32Array(3 * 64 * 64), [1, 3, 64, 64]) }), /Cannot run yunet-n: the inference thread stopped/);
  } finally {
    await stop();
  }
});

test('only models whose outputs follow the input batch axis are joined: YuNet yes; YOLOX-nano and the end-to-end plate export ([batch, 7] boxes) no', async () => {
  for (const [name, joins] of [['yunet-n', true], ['yolox-nano', false], ['yolov9-t-plates', false], ['ultraface-rfb-320', false]] as const) {
    const session = await openOrtSession(fileOf(name), settings);
    assert.equal(sharesBatchAxis(session.inputMetadata, session.outputMetadata), joins, name);
    await session.release();
  }
  // The plate export's output axis is symbolic too, but counts boxes: a dynamic input would not make it joinable.
  assert.equal(sharesBatchAxis([{ name: 'images', shape: ['batch', 3, 416, 416] }], [{ name: 'output0', shape: ['N', 7] }]), false);
});

test('BATCH_IMAGES and BATCH_WAIT_MS: off by default, checked against the jobs the pool holds', () => {
  assert.equal(batchSettingsFromConfig(loadConfig({})), undefined);
  assert.deepEqual(batchSettingsFromConfig(loadConfig({ BATCH_IMAGES: '4', BATCH_WAIT_MS: '3', POOL_THREADS: '2', POOL_TASKS_PER_THREAD: '2' })), { images: 4, waitMs: 3 });
  assert.throws(
    () => batchSettingsFromConfig(loadConfig({ BATCH_IMAGES: '8', POOL_THREADS: '2', POOL_TASKS_PER_THREAD: '2' })),
    (err: unknown) => err instanceof ConfigError && /BATCH_IMAGES=8 can never fill: the pool holds 4 jobs at once \(POOL_THREADS=2 × POOL_TASKS_PER_THREAD=2\)/.test(err.message),
  );
  assert.throws(() => loadConfig({ BATCH_IMAGES: '0' }), (err: unknown) => err instanceof ConfigError && /BATCH_IMAGES/.test(err.message));
  assert.throws(() => loadConfig({ BATCH_WAIT_MS: '5000' }), (err: unknown) => err instanceof ConfigError && /BATCH_WAIT_MS/.test(err.message));
});
