// A detection kind added through the registry alone (issue 22): a module loaded before the service
// defines "screens" (test/fixtures/screens-kind/define-screens.ts) with a fixture manifest that
// points at the UltraFace file, and no source file names it. The node it runs must offer the kind
// as an option, document it, record it in the job and blur what it finds.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/paths.js';

const run = promisify(execFile);
const dist = path.join(packageRoot, 'dist', 'test');

type Json = Record<string, any>;

test('a kind defined through the registry alone is an option, documented, recorded and blurred', async () => {
  const { stdout } = await run(process.execPath, ['--import', path.join(dist, 'fixtures', 'screens-kind', 'define-screens.js'), path.join(dist, 'integration', 'kind-registry-node.js')], {
    maxBuffer: 256 * 1024 * 1024,
    timeout: 120_000,
  });
  const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as Json;

  // Options: detect=screens and screen_threshold are parameters; a bad threshold is refused like any other.
  assert.equal(out.accepted, 202);
  assert.equal(out.refused.status, 400);
  assert.equal(out.refused.body.error.code, 'INVALID_OPTION');
  assert.match(out.refused.body.error.message, /screen_threshold/);

  // The OpenAPI document: the detect enum, the threshold parameter, the job options and the detection kind.
  const doc = out.openapi as Json;
  const upload = doc.paths['/v1/images'].post as Json;
  const params = new Map((upload.parameters as Json[]).map((p) => [p.name, p]));
  assert.ok(params.get('detect')!.schema.items.enum.includes('screens'), 'detect lists screens');
  assert.equal(params.get('screen_threshold')?.schema.maximum, 1, 'screen_threshold is documented');
  assert.deepEqual(Object.keys(doc.components.schemas.JobOptions.properties.detect.properties), ['faces', 'plates', 'objects', 'screens']);
  assert.ok(doc.components.schemas.Detection.properties.kind.enum.includes('screen'));

  // The job record: asked for screens only, at 0.5, by the fixture's model; what it found is blurred.
  const job = out.job as Json;
  assert.equal(job.status, 'completed', JSON.stringify(job.error));
  assert.deepEqual(job.options.detect, { faces: false, plates: false, objects: false, screens: true });
  assert.equal(job.options.thresholds.screen, 0.5);
  assert.equal(job.result.models.screens, 'screens-ultraface-320');
  const screens = (job.result.detections as Json[]).filter((d) => d.kind === 'screen');
  assert.ok(screens.length > 0, 'the UltraFace file finds the faces of uf_3.jpg as screens');
  assert.equal(screens.length, job.result.detections.length, 'only the asked-for kind');
  for (const d of screens) {
    assert.equal(d.label, 'screen');
    assert.ok(d.score >= 0.5);
    assert.equal(d.blurred, true);
    // blurMargin 0.1 from the registry entry: the blurred box is larger than the found one.
    assert.ok(d.blurBox.width > d.box.width || d.blurBox.x === 0, 'grown by the kind margin');
  }

  // The blurred output: pixels inside each blurred box changed, pixels away from every box did not.
  const { width, height, channels } = out.pixels;
  const before = Buffer.from(out.pixels.before, 'base64');
  const after = Buffer.from(out.pixels.after, 'base64');
  assert.equal(after.length, before.length);
  const inAnyBox = (x: number, y: number) => screens.some((d) => x >= d.blurBox.x - 2 && x < d.blurBox.x + d.blurBox.width + 2 && y >= d.blurBox.y - 2 && y < d.blurBox.y + d.blurBox.height + 2);
  let inside = 0;
  let insideChanged = 0;
  let outsideChanged = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      const changed = Math.abs(before[i] - after[i]) + Math.abs(before[i + 1] - after[i + 1]) + Math.abs(before[i + 2] - after[i + 2]) > 6;
      if (inAnyBox(x, y)) {
        inside++;
        if (changed) insideChanged++;
      } else if (changed) outsideChanged++;
    }
  }
  assert.ok(insideChanged / inside > 0.3, `blurred inside the screen boxes (${insideChanged} of ${inside} pixels changed)`);
  assert.equal(outsideChanged, 0, 'nothing changed away from the screen boxes');
});
