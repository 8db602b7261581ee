import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { detailCorrelation, facesDir, readFixture, sharpness } from '../../harness/fixtures.js';
import { startTestNode, uploadFile, waitForJob, type TestNode } from '../../harness/server.js';

interface Box { x: number; y: number; width: number; height: number }

// The five faces in uf_3.jpg (1024×768), labelled by looking at the photo, not from a model.
const UF3_FACES: Box[] = [
  { x: 186, y: 230, width: 76, height: 103 },
  { x: 301, y: 186, width: 83, height: 102 },
  { x: 399, y: 243, width: 94, height: 115 },
  { x: 548, y: 218, width: 92, height: 115 },
  { x: 732, y: 250, width: 94, height: 121 },
];

function iou(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / (a.width * a.height + b.width * b.height - w * h);
}

/** The middle of a face: eyes, nose, mouth — what must not stay recognisable. */
function core(box: Box): Box {
  return { x: box.x + box.width * 0.2, y: box.y + box.height * 0.2, width: box.width * 0.6, height: box.height * 0.6 };
}

describe('faces are found and made unrecognisable', () => {
  let server: TestNode;
  before(async () => {
    server = await startTestNode();
  });
  after(async () => server.close());

  for (const blur of ['gaussian', 'pixelate', 'solid']) {
    test(`every labelled face in uf_3.jpg is detected and its detail destroyed (${blur})`, async () => {
      const original = readFixture(facesDir, 'uf_3.jpg');
      const res = await uploadFile(server.url, original, 'uf_3.jpg', `?blur=${blur}&shape=ellipse`);
      const job = await waitForJob(server.url, (await res.json()).job_id);
      assert.equal(job.status, 'completed');
      const faces = job.result.detections.filter((d: any) => d.kind === 'face');
      const output = Buffer.from(await (await fetch(`${server.url}/v1/jobs/${job.job_id}/result`)).arrayBuffer());
      for (const truth of UF3_FACES) {
        const match = faces.find((f: any) => iou(f.box, truth) >= 0.3);
        assert.ok(match, `face at ${JSON.stringify(truth)} detected; got ${JSON.stringify(faces.map((f: any) => f.box))}`);
        assert.equal(match.blurred, true);
        // The blurred region covers the face with the ~15% margin.
        assert.ok(match.blurBox.width >= match.box.width * 1.1);
        const correlation = await detailCorrelation(original, output, core(truth));
        assert.ok(correlation < 0.25, `the face's fine detail still correlates ${correlation.toFixed(2)} with the original`);
        if (blur === 'gaussian') {
          const before = await sharpness(original, core(truth));
          const after = await sharpness(output, core(truth));
          assert.ok(after < before * 0.2, `sharpness inside the face fell from ${before.toFixed(0)} to ${after.toFixed(0)}: not enough`);
        }
      }
    });
  }

  test('the crowd in uf_1.jpg: dozens of small faces found and blurred', async () => {
    const res = await uploadFile(server.url, readFixture(facesDir, 'uf_1.jpg'), 'uf_1.jpg');
    const job = await waitForJob(server.url, (await res.json()).job_id);
    const faces = job.result.detections.filter((d: any) => d.kind === 'face');
    assert.ok(faces.length >= 40, `found ${faces.length} faces`);
    assert.ok(faces.every((f: any) => f.blurred));
  });

  test('a face left alone keeps its detail (the metric can tell)', async () => {
    const original = readFixture(facesDir, 'uf_3.jpg');
    const res = await uploadFile(server.url, original, 'uf_3.jpg', '?detect=objects');
    const job = await waitForJob(server.url, (await res.json()).job_id);
    const output = Buffer.from(await (await fetch(`${server.url}/v1/jobs/${job.job_id}/result`)).arrayBuffer());
    assert.ok((await detailCorrelation(original, output, core(UF3_FACES[2]))) > 0.6, 're-encoding alone keeps the detail');
  });

  test('objects are reported but not blurred unless asked; blur_classes=person blurs them', async () => {
    const original = readFixture(facesDir, 'uf_3.jpg');
    const run = async (query: string) => {
      const res = await uploadFile(server.url, original, 'uf_3.jpg', query);
      const job = await waitForJob(server.url, (await res.json()).job_id);
      assert.equal(job.status, 'completed');
      const output = Buffer.from(await (await fetch(`${server.url}/v1/jobs/${job.job_id}/result`)).arrayBuffer());
      const people = job.result.detections.filter((d: any) => d.label === 'person');
      assert.ok(people.length >= 3, `found ${people.length} persons`);
      assert.ok(!job.result.detections.some((d: any) => d.kind === 'face'), 'faces were not asked for');
      // The best-scored person's box, pixels and all: kept or blurred as the flags say.
      const person = [...people].sort((x: any, y: any) => y.score - x.score)[0];
      return { people, correlation: await detailCorrelation(original, output, core(person.box)) };
    };

    const reported = await run('?detect=objects');
    assert.ok(reported.people.every((p: any) => p.blurred === false && p.blurBox === undefined), 'not asked: none blurred');
    assert.ok(reported.correlation > 0.6, `not asked: the person keeps its detail (correlation ${reported.correlation.toFixed(2)})`);

    const asked = await run('?blur_classes=person&detect=objects');
    assert.ok(asked.people.every((p: any) => p.blurred === true && p.blurBox), 'asked: every person blurred');
    assert.ok(asked.correlation < 0.25, `asked: the person's detail is gone (correlation ${asked.correlation.toFixed(2)})`);
  });
});
