// Run by kind-registry.test.ts in a child process with the "screens" kind defined first
// (node --import define-screens.js): starts a node, asks for screens only, and prints what the
// test checks as one JSON line (the OpenAPI document, the job record, the pixels in and out).
import path from 'node:path';
import sharp from 'sharp';
import { packageRoot } from '../../src/paths.js';
import { facesDir, readFixture } from '../../harness/fixtures.js';
import { startTestNode, uploadFile, waitForJob } from '../../harness/server.js';

const photo = 'uf_3.jpg';
const server = await startTestNode({}, 'serve', { MODEL_MANIFEST_DIR: path.join(packageRoot, 'test', 'fixtures', 'screens-kind'), POOL_THREADS: '1' });
try {
  const openapi = await (await fetch(`${server.url}/openapi.json`)).json();
  const original = readFixture(path.join(facesDir, photo));
  const refused = await uploadFile(server.url, original, photo, '?detect=screens&screen_threshold=2');
  const accepted = await uploadFile(server.url, original, photo, '?detect=screens&screen_threshold=0.5&format=png');
  const { job_id: jobId } = await accepted.json();
  const job = await waitForJob(server.url, jobId, 60_000);
  const result = Buffer.from(await (await fetch(`${server.url}/v1/jobs/${jobId}/result`)).arrayBuffer());
  const raw = async (bytes: Buffer) => (await sharp(bytes).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true }));
  const before = await raw(original);
  const after = await raw(result);
  console.log(
    JSON.stringify({
      openapi,
      refused: { status: refused.status, body: await refused.json() },
      accepted: accepted.status,
      job,
      pixels: { width: before.info.width, height: before.info.height, channels: before.info.channels, before: before.data.toString('base64'), after: after.data.toString('base64') },
    }),
  );
} finally {
  await server.close();
}
