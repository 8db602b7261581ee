import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { verifyModelFile } from '../../src/models/files.js';
import { loadManifests, type ModelManifest } from '../../src/models/manifest.js';
import { ensureModels, pullModel } from '../../src/models/pull.js';
import { modelDir } from '../../harness/fixtures.js';
import { startModelHost } from '../../harness/model-host.js';

describe('model pull', () => {
  let host: Awaited<ReturnType<typeof startModelHost>>;
  let dir: string;
  const manifests = loadManifests();
  const uf = manifests.get('ultraface-rfb-320')!;
  before(async () => {
    host = await startModelHost();
  });
  after(async () => host.close());
  test.beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-models-'));
  });
  test.afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('every shipped manifest names an upstream source, a licence and the sha256 of the file in ../shared/models', async () => {
    for (const name of ['yolox-nano', 'ultraface-rfb-320', 'ultraface-rfb-640', 'hyperlpr-y5fu-320', 'hyperlpr-y5fu-640', 'yunet-n', 'yunet-s', 'yolov9-t-plates']) {
      const m = manifests.get(name);
      assert.ok(m, name);
      assert.match(m.source.url, /^https:\/\//);
      assert.ok(m.license);
      assert.equal(await verifyModelFile(modelDir, m), path.join(modelDir, m.file));
    }
  });

  test('the YuNet and YOLOv9-t manifests pin the upstream commits, and their files pull and verify', async () => {
    const pinned = {
      'yunet-n': 'https://raw.githubusercontent.com/ShiqiYu/libfacedetection.train/0047ac24afb1a50a0c6105001c89d1b5b805dbf1/onnx/yunet_n_dynamic.onnx',
      'yunet-s': 'https://raw.githubusercontent.com/ShiqiYu/libfacedetection.train/0047ac24afb1a50a0c6105001c89d1b5b805dbf1/onnx/yunet_s_dynamic.onnx',
      'yolov9-t-plates': 'https://raw.githubusercontent.com/agusibrahim/fast-alpr-rs/9a4e03d2f2f26a041e05752bed5668ee7ebc1e64/models/yolo-v9-t-416-license-plates-end2end1.onnx',
    };
    for (const [name, url] of Object.entries(pinned)) {
      const m = manifests.get(name)!;
      assert.equal(m.source.url, url);
      // The upstream URL's path, served by the local host: the pull follows the manifest's own source.
      const local: ModelManifest = { ...m, source: { ...m.source, url: `${host.url}/${path.basename(url)}` } };
      const file = await pullModel(dir, local, {});
      assert.equal(fs.statSync(file).size, m.bytes);
      assert.equal(await verifyModelFile(dir, m), file);
    }
    assert.equal(manifests.get('yunet-n')!.license, 'Apache-2.0');
    const plates = manifests.get('yolov9-t-plates')!;
    assert.equal(plates.license, 'MIT');
    assert.match(plates.licenseNote!, /open-image-models.*fast-alpr-rs repository that hosts it has no licence file of its own/s);
  });

  test('downloads through a mirror, checks the sha256 and reports progress', async () => {
    let progress = '';
    const out = { write: (s: string) => ((progress += s), true) } as unknown as NodeJS.WritableStream;
    const file = await pullModel(dir, uf, { mirror: host.url, progress: out });
    assert.equal(crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'), uf.sha256);
    assert.match(progress, /pulling ultraface-rfb-320 100%/);
    assert.deepEqual(fs.readdirSync(dir), [uf.file], 'no partial files left behind');
  });

  test('a wrong checksum fails, names the file and the source, and writes nothing', async () => {
    await assert.rejects(pullModel(dir, uf, { mirror: `${host.url}/corrupt` }), (err: Error) => {
      assert.match(err.message, /Checksum mismatch for ultraface-rfb-320 \(version-RFB-320\.onnx\)/);
      assert.match(err.message, new RegExp(uf.sha256));
      assert.ok(err.message.includes(path.join(dir, uf.file)));
      return true;
    });
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  test('an unreachable source fails with where it looked and where to get the file', async () => {
    const offline: ModelManifest = { ...uf, source: { ...uf.source, url: 'http://127.0.0.1:9/version-RFB-320.onnx' } };
    await assert.rejects(pullModel(dir, offline, { timeoutMs: 3000 }), (err: Error) => {
      assert.match(err.message, /Could not download ultraface-rfb-320/);
      assert.ok(err.message.includes(path.join(dir, uf.file)));
      return true;
    });
    await assert.rejects(pullModel(dir, uf, { mirror: `${host.url}/nowhere` }), /HTTP 404/);
  });

  test('ensureModels: pulls only what is missing, refuses to start on a missing model when pulling is off', async () => {
    await assert.rejects(ensureModels(dir, [uf], { pull: false }), /Model ultraface-rfb-320 is missing: looked for .*version-RFB-320\.onnx\. Run "pixveil models pull" or download it from https:/);
    host.requests.length = 0;
    await ensureModels(dir, [uf], { pull: true, mirror: host.url });
    await ensureModels(dir, [uf], { pull: true, mirror: host.url });
    assert.equal(host.requests.length, 1, 'the second call found the file and fetched nothing');
    fs.writeFileSync(path.join(dir, uf.file), 'tampered');
    await assert.rejects(ensureModels(dir, [uf], { pull: true, mirror: host.url }), /does not match its sha256/);
  });
});
