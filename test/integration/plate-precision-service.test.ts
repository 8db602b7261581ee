// The plate model file a node runs (PLATE_MODEL_PRECISION), end to end: start-up picks it, logs it
// once, shows it in /v1/health, the pool runs it on a real photo; a missing file asked for by name
// stops `pixveil serve` with one line and exit 2.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startNode } from '../../src/commands/node.js';
import { loadConfig } from '../../src/config/config.js';
import { hostCpuFeatures } from '../../src/models/cpu-features.js';
import { loadManifests } from '../../src/models/manifest.js';
import type { Logger } from '../../src/observability/logger.js';
import { packageRoot } from '../../src/paths.js';
import { ensureDerivedPlateModels, quantizePython } from '../../harness/derived-models.js';
import { evalDataDir, fixtureDir, modelDir } from '../../harness/photos.js';
import { uploadFile, waitForJob } from '../../harness/server.js';

const manifests = loadManifests();

/** A logger that keeps every line, to count what start-up said about the plate model. */
function recordingLogger(lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }>): Logger {
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, fields });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

/** MODEL_DIR as a user has it after `pixveil models quantize`: the shipped files and the derived ones side by side. */
function modelDirWithDerived(derived: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-models-'));
  for (const f of fs.readdirSync(modelDir).filter((f) => f.endsWith('.onnx'))) fs.symlinkSync(path.join(modelDir, f), path.join(dir, f));
  for (const f of fs.readdirSync(derived).filter((f) => f.startsWith('yolov9-t-plates-'))) fs.copyFileSync(path.join(derived, f), path.join(dir, f));
  return dir;
}

async function startWith(env: Record<string, string>, lines: Parameters<typeof recordingLogger>[0]) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-test-'));
  const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', MODEL_PULL_ON_START: 'false', POOL_THREADS: '1', LATENCY_SLO_SECONDS: '0', OBJECT_MODEL: '', FACE_MODEL: '', ...env });
  const node = await startNode(config, 'serve', recordingLogger(lines));
  return { node, url: `http://127.0.0.1:${node.port}`, close: () => node.close().then(() => fs.rmSync(dataDir, { recursive: true, force: true })) };
}

describe('plate model precision in a running node', () => {
  let withDerived: string;
  before(async () => {
    withDerived = modelDirWithDerived(await ensureDerivedPlateModels());
  });
  after(() => fs.rmSync(withDerived, { recursive: true, force: true }));

  test('auto runs the file this CPU prefers, says so once in the log and in /v1/health, and finds the plate', async () => {
    const expected = hostCpuFeatures().vnni ? 'int8' : 'float';
    const lines: Parameters<typeof recordingLogger>[0] = [];
    const node = await startWith({ MODEL_DIR: withDerived }, lines);
    try {
      const said = lines.filter((l) => l.msg === 'plate model');
      assert.equal(said.length, 1);
      assert.equal(said[0].level, 'info');
      assert.equal(said[0].fields?.model, `yolov9-t-plates-${expected}`);
      const health = await (await fetch(`${node.url}/v1/health`)).json();
      assert.equal(health.plate_model.model, `yolov9-t-plates-${expected}`);
      assert.equal(health.plate_model.precision, expected);
      assert.equal(health.plate_model.setting, 'auto');
      assert.equal(health.plate_model.cpu, hostCpuFeatures().evidence);
      // A car photo of the openalpr split, which the calibration never saw.
      const res = await uploadFile(node.url, fs.readFileSync(path.join(evalDataDir, 'openalpr', 'us', 'car1.jpg')), 'car.jpg', '?detect=plates');
      const job = await waitForJob(node.url, (await res.json()).job_id);
      assert.equal(job.status, 'completed');
      assert.equal(job.result.detections.filter((d: { kind: string }) => d.kind === 'plate').length, 1);
      // The job record names the file that ran, so a result can be traced to int8 or float.
      assert.equal(job.result.models.plates, `yolov9-t-plates-${expected}`);
    } finally {
      await node.close();
    }
  });

  test('original and an explicit precision override the CPU', async () => {
    for (const setting of ['original', 'float', 'int8'] as const) {
      const lines: Parameters<typeof recordingLogger>[0] = [];
      const node = await startWith({ MODEL_DIR: withDerived, PLATE_MODEL_PRECISION: setting }, lines);
      try {
        const health = await (await fetch(`${node.url}/v1/health`)).json();
        assert.equal(health.plate_model.model, setting === 'original' ? 'yolov9-t-plates' : `yolov9-t-plates-${setting}`);
        assert.equal(health.plate_model.precision, setting);
      } finally {
        await node.close();
      }
    }
  });

  test('auto without the derived files runs the original, with one warning naming the command', async () => {
    const lines: Parameters<typeof recordingLogger>[0] = [];
    const node = await startWith({ MODEL_DIR: modelDir }, lines);
    try {
      const said = lines.filter((l) => l.msg === 'plate model');
      assert.equal(said.length, 1);
      assert.equal(said[0].level, 'warn');
      assert.match(String(said[0].fields?.reason), /is missing; make it with "pixveil models quantize"; running the original yolov9-t-plates/);
      const health = await (await fetch(`${node.url}/v1/health`)).json();
      assert.equal(health.plate_model.precision, 'original');
    } finally {
      await node.close();
    }
  });

  test('pixveil serve with PLATE_MODEL_PRECISION=int8 and no int8 file: one line on stderr, exit 2', async () => {
    const child = spawn(process.execPath, [path.join(packageRoot, 'dist', 'src', 'cli.js'), 'serve'], {
      env: { ...process.env, MODEL_DIR: modelDir, PLATE_MODEL_PRECISION: 'int8', PORT: '0', MODEL_PULL_ON_START: 'false', DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-test-')) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 2);
    const int8File = path.join(modelDir, manifests.get('yolov9-t-plates-int8')!.file);
    assert.equal(stderr, `pixveil: PLATE_MODEL_PRECISION=int8: ${int8File} is missing; make it with "pixveil models quantize"\n`);
  });
});

describe('pixveil models quantize', () => {
  const cli = (args: string[], env: Record<string, string>) => {
    const child = spawn(process.execPath, [path.join(packageRoot, 'dist', 'src', 'cli.js'), 'models', ...args], { env: { ...process.env, MODEL_PULL_ON_START: 'false', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  };

  test('makes both files from MODEL_DIR into --out, checked against their provenance; models list then sees them', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-quantize-'));
    try {
      const made = await cli(['quantize', '--out', out, '--photos', fixtureDir, '--python', quantizePython()], { MODEL_DIR: modelDir });
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stdout, /^yolov9-t-plates-float +ok /m);
      assert.match(made.stdout, /^yolov9-t-plates-int8 +ok /m);
      assert.deepEqual(fs.readdirSync(out).sort(), ['yolov9-t-plates-float.onnx', 'yolov9-t-plates-float.provenance.json', 'yolov9-t-plates-int8.onnx', 'yolov9-t-plates-int8.provenance.json']);
      const listed = await cli(['list'], { MODEL_DIR: out });
      assert.match(listed.stdout, /^yolov9-t-plates-int8 +plates +ok .*made from yolov9-t-plates by "pixveil models quantize"/m);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  test('without a usable Python: one line naming the requirements, exit 2', async () => {
    const res = await cli(['quantize', '--out', os.tmpdir(), '--python', '/nonexistent/python3'], { MODEL_DIR: modelDir });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /^pixveil: \/nonexistent\/python3 not found: install Python 3 and "pip install -r scripts\/quantize\/requirements.txt", or pass --python <path>\n$/);
  });
});
