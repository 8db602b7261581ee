import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { cpuFeaturesFromCpuinfo, type CpuFeatures } from '../../src/models/cpu-features.js';
import { modelFileState, type ModelFileState } from '../../src/models/files.js';
import { loadManifests, type ModelManifest } from '../../src/models/manifest.js';
import { packageRoot } from '../../src/paths.js';
import { choosePlateModel, resolvePlateModel, type PlatePrecisionSetting } from '../../src/models/plate-precision.js';

const manifests = loadManifests();
const EPYC_FLAGS = 'flags\t\t: fpu vme sse sse2 avx avx2 fma avx512f avx512dq avx512bw avx512vl avx512_vnni avx512_bf16 avx_vnni';
const VNNI: CpuFeatures = cpuFeaturesFromCpuinfo(`processor\t: 0\nmodel name\t: AMD EPYC\n${EPYC_FLAGS}\n`);
const AVX2_ONLY: CpuFeatures = cpuFeaturesFromCpuinfo('processor\t: 0\nflags\t\t: fpu sse sse2 avx avx2 fma\n');

/** A choice with every derived file in the given state (default ok), recording which files were looked at. */
async function choose(setting: PlatePrecisionSetting, cpu: CpuFeatures, states: Record<string, ModelFileState> = {}, plateModel = 'yolov9-t-plates') {
  const looked: string[] = [];
  const choice = await choosePlateModel({
    setting,
    plateModel,
    manifests,
    cpu,
    fileState: async (m) => {
      looked.push(m.name);
      return states[m.name] ?? 'ok';
    },
    fileLocation: (m) => `/models/${m.file}`,
  });
  return { choice, looked };
}

describe('CPU flags', () => {
  test('AVX-512 VNNI or AVX-VNNI count as VNNI; AVX2 alone, arm64 and unreadable flags do not', () => {
    assert.deepEqual(VNNI, { vnni: true, evidence: 'avx512_vnni,avx_vnni' });
    assert.equal(cpuFeaturesFromCpuinfo('flags\t: sse avx2 avx_vnni\n').vnni, true);
    assert.deepEqual(AVX2_ONLY, { vnni: false, evidence: 'avx2, no vnni' });
    assert.equal(cpuFeaturesFromCpuinfo('processor\t: 0\nFeatures\t: fp asimd asimddp\nCPU implementer\t: 0x41\n').vnni, false);
    assert.equal(cpuFeaturesFromCpuinfo('').vnni, false);
    // A flag that only contains the word is not the flag.
    assert.equal(cpuFeaturesFromCpuinfo('flags\t: avx2 avx512_vnni_x\n').vnni, false);
  });
});

describe('plate model precision (PLATE_MODEL_PRECISION)', () => {
  test('auto on a VNNI CPU runs the int8 file when it is there', async () => {
    const { choice, looked } = await choose('auto', VNNI);
    assert.equal(choice?.model, 'yolov9-t-plates-int8');
    assert.equal(choice?.precision, 'int8');
    assert.equal(choice?.fallback, false);
    assert.match(choice!.reason, /avx512_vnni/);
    assert.deepEqual(looked, ['yolov9-t-plates-int8']);
  });

  test('auto without VNNI runs the float rebuild', async () => {
    const { choice } = await choose('auto', AVX2_ONLY);
    assert.equal(choice?.model, 'yolov9-t-plates-float');
    assert.equal(choice?.precision, 'float');
    assert.match(choice!.reason, /no VNNI/);
  });

  test('auto with its file missing or stale runs the original, and says why and what to run', async () => {
    for (const state of ['missing', 'stale'] as const) {
      const { choice } = await choose('auto', VNNI, { 'yolov9-t-plates-int8': state });
      assert.equal(choice?.model, 'yolov9-t-plates');
      assert.equal(choice?.precision, 'original');
      assert.equal(choice?.fallback, true);
      assert.match(choice!.reason, new RegExp(`/models/yolov9-t-plates-int8.onnx is ${state}.*pixveil models quantize`));
    }
  });

  test('an explicit precision overrides the CPU', async () => {
    assert.equal((await choose('int8', AVX2_ONLY)).choice?.model, 'yolov9-t-plates-int8');
    assert.equal((await choose('float', VNNI)).choice?.model, 'yolov9-t-plates-float');
    const original = await choose('original', VNNI);
    assert.equal(original.choice?.model, 'yolov9-t-plates');
    assert.deepEqual(original.looked, [], 'original looks at no derived file');
  });

  test('an explicit precision whose file is missing is a start-up error naming the file and the command', async () => {
    await assert.rejects(
      choose('int8', VNNI, { 'yolov9-t-plates-int8': 'missing' }),
      (err: Error) => err instanceof ConfigError && /^PLATE_MODEL_PRECISION=int8: \/models\/yolov9-t-plates-int8\.onnx is missing; make it with "pixveil models quantize"$/.test(err.message),
    );
    await assert.rejects(choose('float', AVX2_ONLY, { 'yolov9-t-plates-float': 'stale' }), (err: Error) => err instanceof ConfigError && /PLATE_MODEL_PRECISION=float: .* stale/.test(err.message));
  });

  test('a plate model without derived files: auto runs it, an explicit int8 is an error', async () => {
    const auto = await choose('auto', VNNI, {}, 'hyperlpr-y5fu-320');
    assert.equal(auto.choice?.model, 'hyperlpr-y5fu-320');
    assert.equal(auto.choice?.fallback, false);
    await assert.rejects(choose('int8', VNNI, {}, 'hyperlpr-y5fu-320'), (err: Error) => err instanceof ConfigError && /PLATE_MODEL=hyperlpr-y5fu-320.*made for: yolov9-t-plates/.test(err.message));
    assert.equal((await choose('auto', VNNI, {}, '')).choice, undefined, 'plates disabled');
  });

  test('PLATE_MODEL_PRECISION defaults to auto and refuses other words', () => {
    assert.equal(loadConfig({}).platePrecision, 'auto');
    assert.equal(loadConfig({ PLATE_MODEL_PRECISION: 'int8' }).platePrecision, 'int8');
    assert.throws(() => loadConfig({ PLATE_MODEL_PRECISION: 'fp16' }), /PLATE_MODEL_PRECISION/);
  });
});

describe('derived plate files on disk', () => {
  const int8 = manifests.get('yolov9-t-plates-int8')!;
  const source = manifests.get('yolov9-t-plates')!;

  /** A model dir holding a stand-in int8 file and the record the script would write for it. */
  function modelDirWith(record: (fileSha: string) => object): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-precision-'));
    const bytes = crypto.randomBytes(64);
    fs.writeFileSync(path.join(dir, int8.file), bytes);
    const sha = crypto.createHash('sha256').update(bytes).digest('hex');
    fs.writeFileSync(path.join(dir, int8.derived!.provenance), JSON.stringify(record(sha)));
    return dir;
  }
  const goodRecord = (sha: string) => ({ file: int8.file, sha256: sha, precision: 'int8', from: { manifest: source.name, file: source.file, sha256: source.sha256 } });

  test('a file is usable only with a provenance record naming its sha256 and the source the manifest names', async () => {
    assert.equal(await modelFileState(modelDirWith(goodRecord), int8), 'ok');
    assert.equal(await modelFileState(modelDirWith((sha) => ({ ...goodRecord(sha), sha256: '0'.repeat(64) })), int8), 'stale');
    assert.equal(await modelFileState(modelDirWith((sha) => ({ ...goodRecord(sha), from: { ...goodRecord(sha).from, sha256: 'f'.repeat(64) } })), int8), 'stale');
    const noRecord = modelDirWith(goodRecord);
    fs.rmSync(path.join(noRecord, int8.derived!.provenance));
    assert.equal(await modelFileState(noRecord, int8), 'stale');
    assert.equal(await modelFileState(fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-precision-')), int8), 'missing');
  });

  test('resolvePlateModel points PLATE_MODEL at the file that runs, from the files in MODEL_DIR', async () => {
    const dir = modelDirWith(goodRecord);
    const config = loadConfig({ MODEL_DIR: dir });
    const onVnni = await resolvePlateModel(config, manifests, VNNI);
    assert.equal(onVnni.config.plateModel, 'yolov9-t-plates-int8');
    assert.ok(Object.isFrozen(onVnni.config));
    assert.equal(config.plateModel, 'yolov9-t-plates', 'the settings passed in are not changed');
    // No float file in that dir: auto without VNNI falls back to the original.
    const noVnni = await resolvePlateModel(config, manifests, AVX2_ONLY);
    assert.equal(noVnni.config.plateModel, 'yolov9-t-plates');
    assert.equal(noVnni.choice?.fallback, true);
  });
});

describe('derived plate manifests', () => {
  const source = manifests.get('yolov9-t-plates')!;
  test('the float and int8 manifests record their source and recipe, and carry its licence note, input, output and threshold', () => {
    for (const precision of ['float', 'int8'] as const) {
      const m = manifests.get(`yolov9-t-plates-${precision}`) as ModelManifest;
      assert.deepEqual(m.derived && [m.derived.from, m.derived.fromSha256, m.derived.precision, m.derived.script], ['yolov9-t-plates', source.sha256, precision, 'scripts/quantize/plate_models.py']);
      assert.ok(fs.existsSync(path.join(packageRoot, m.derived!.script)), `${m.derived!.script} exists`);
      assert.equal(m.license, source.license);
      assert.equal(m.licenseNote, source.licenseNote);
      assert.deepEqual([m.input, m.output, m.classes, m.threshold, m.task], [source.input, source.output, source.classes, source.threshold, source.task]);
    }
    assert.match(source.licenseNote!, /grey zone.*GPL-3\.0/);
  });
});
