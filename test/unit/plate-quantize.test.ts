// scripts/quantize/ run for real (harness/derived-models.ts makes the files on first use): what
// its int8 file keeps in float, what its provenance record says, and that the files still find plates.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { loadOpenalpr, OPENALPR_REGIONS, type OpenalprImage } from '../../eval/openalpr.js';
import type { RawImage } from '../../src/addon/types.js';
import { Detector } from '../../src/models/detector.js';
import { loadManifests } from '../../src/models/manifest.js';
import { packageRoot } from '../../src/paths.js';
import { derivedModelDir, ensureDerivedPlateModels, quantizePython } from '../../harness/derived-models.js';
import { fixtureDir } from '../../harness/photos.js';

const manifests = loadManifests();
const source = manifests.get('yolov9-t-plates')!;
const int8 = manifests.get('yolov9-t-plates-int8')!;
const float = manifests.get('yolov9-t-plates-float')!;
// What the script leaves in float: the stem convolution, the detection head and the NMS tail.
const HEAD_SCOPES = ['/model.0/', '/model.22/', '/end2end/'];
const inHead = (name: string) => HEAD_SCOPES.some((s) => name.includes(s));
const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

interface GraphNode {
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
}

/** The int8 file's nodes, read with the onnx package of the quantization Python. */
function graphNodes(file: string): GraphNode[] {
  const code = 'import json, sys, onnx\nm = onnx.load(sys.argv[1])\nprint(json.dumps([{"name": n.name, "op": n.op_type, "inputs": list(n.input), "outputs": list(n.output)} for n in m.graph.node]))';
  return JSON.parse(execFileSync(quantizePython(), ['-c', code, file], { maxBuffer: 64 << 20 }).toString()) as GraphNode[];
}

describe('scripts/quantize/plate_models.py', () => {
  let dir: string;
  before(async () => {
    dir = await ensureDerivedPlateModels();
  });

  test('the int8 file quantizes every convolution but the stem, the detection head and the NMS tail', () => {
    const nodes = graphNodes(path.join(dir, int8.file));
    const producer = new Map(nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
    // A quantized convolution reads int8 weights through a DequantizeLinear (onnxruntime fuses the
    // pair into an int8 kernel); one left in float keeps its float weights. The head's first layers
    // still read the body's last uint8 activations: those tensors are the body's outputs.
    const int8Weights = (n: GraphNode) => producer.get(n.inputs[1])?.op === 'DequantizeLinear';
    const convs = nodes.filter((n) => n.op === 'Conv' || n.op === 'MatMul');
    const head = convs.filter((n) => inHead(n.name));
    const body = convs.filter((n) => !inHead(n.name));
    assert.ok(head.length >= 10 && body.length >= 100, `${head.length} head and ${body.length} body convolutions`);
    assert.deepEqual(head.filter(int8Weights).map((n) => n.name), [], 'head convolutions with int8 weights');
    assert.deepEqual(body.filter((n) => !int8Weights(n)).map((n) => n.name), [], 'body convolutions left in float');
    const quantizedOutputs = new Set(nodes.filter((n) => n.op === 'QuantizeLinear').map((n) => n.inputs[0]));
    assert.deepEqual(head.filter((n) => quantizedOutputs.has(n.outputs[0])).map((n) => n.name), [], 'head outputs rounded to uint8');
    assert.equal(nodes.filter((n) => n.op === 'ConvInteger' || n.op === 'MatMulInteger' || n.op === 'DynamicQuantizeLinear').length, 0);
  });

  test('the provenance record names the source file, the tools, every calibration photo and the nodes left in float', () => {
    const record = JSON.parse(fs.readFileSync(path.join(dir, int8.derived!.provenance), 'utf8'));
    assert.deepEqual(record.from, { manifest: 'yolov9-t-plates', file: source.file, sha256: source.sha256 });
    assert.equal(record.sha256, sha256(path.join(dir, int8.file)));
    assert.equal(record.tools.onnxruntime, '1.30.0');
    assert.equal(record.script, int8.derived!.script);
    const listed = fs.readFileSync(path.join(packageRoot, 'scripts', 'quantize', 'calibration.txt'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    assert.ok(listed.length >= 10);
    assert.deepEqual(record.calibration.photos, listed.map((file) => ({ file, sha256: sha256(path.join(fixtureDir, file)) })));
    assert.ok(!listed.some((f) => f.includes('openalpr')), 'no photo of the evaluated split calibrates the model');
    const headNodes = graphNodes(path.join(dir, int8.file)).filter((n) => inHead(n.name)).map((n) => n.name);
    assert.ok(record.nodes_left_in_float.length > 50 && record.nodes_left_in_float.every(inHead));
    // Every node the record says was left in float is still in the file, unquantized.
    assert.deepEqual(record.nodes_left_in_float.filter((n: string) => !headNodes.includes(n)), []);
  });

  test('the float file is the same bytes on every run: the manifest records them', () => {
    assert.equal(sha256(path.join(dir, float.file)), float.sha256);
    const record = JSON.parse(fs.readFileSync(path.join(dir, float.derived!.provenance), 'utf8'));
    assert.equal(record.from.sha256, source.sha256);
    assert.match(record.method, /folded/);
  });
});

describe('the derived plate models on real photos the calibration never saw', () => {
  const loaded: Detector[] = [];
  let photos: OpenalprImage[];
  const settings = { intraOpThreads: 1, executionProviders: ['cpu'] };
  before(async () => {
    await ensureDerivedPlateModels();
    const all = await loadOpenalpr();
    // The first three photos of each region (names sorted): US, EU and BR plates.
    photos = OPENALPR_REGIONS.flatMap((r) => all.filter((p) => p.region === r).sort((a, b) => a.name.localeCompare(b.name)).slice(0, 3));
  });
  after(async () => {
    for (const d of loaded) await d.release();
  });

  async function decode(file: string): Promise<RawImage> {
    const { data, info } = await sharp(fs.readFileSync(file)).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: 3 };
  }

  for (const name of ['yolov9-t-plates-int8', 'yolov9-t-plates-float']) {
    test(`${name} finds the labelled plate of three US, three EU and three BR photos at the manifest threshold`, async () => {
      const m = manifests.get(name)!;
      const detector = await Detector.load(m, path.join(derivedModelDir, m.file), settings);
      loaded.push(detector);
      const missed: string[] = [];
      for (const p of photos) {
        const [x, y, w, h] = p.gt.objects[0].box;
        const found = await detector.detect(await decode(p.file), m.threshold!);
        const hit = found.some((d) => {
          const iw = Math.min(x + w, d.x2) - Math.max(x, d.x1);
          const ih = Math.min(y + h, d.y2) - Math.max(y, d.y1);
          return iw > 0 && ih > 0 && (iw * ih) / (w * h + (d.x2 - d.x1) * (d.y2 - d.y1) - iw * ih) >= 0.3;
        });
        if (!hit) missed.push(`${p.region}/${p.name}`);
      }
      assert.equal(photos.length, 9);
      assert.deepEqual(missed, []);
    });
  }

});
