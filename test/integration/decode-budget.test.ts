// Issue 21 item 3: header-lie bombs (a few hundred bytes whose header claims a huge image) against a
// real `pixveil serve` process. The decoded-pixel budget makes them wait for each other, so the
// server's memory stays bounded while eight arrive at once, and the memory comes back afterwards.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { headerLieBurst, headerLies } from '../../harness/fuzz-header-lies.js';
import { startFuzzServer, type FuzzServer } from '../../harness/fuzz-run.js';

// One 16 MP bomb in flight at a time. Measured on the 2-core machine: eight JPEG bombs of 4000×4000
// at once raised RSS by 341 MiB at the peak and left 281 MiB (onnxruntime's arenas after face tiles)
// with the budget; without it (main before issue 21) 956 MiB at the peak and 856 MiB afterwards.
const BUDGET = 16_000_000;
const PEAK_GROWTH_MIB = 500;
const AFTER_GROWTH_MIB = 420;

let server: FuzzServer;
before(async () => {
  server = await startFuzzServer({ MAX_PIXELS: '20000000', DECODE_PIXEL_BUDGET: String(BUDGET) });
});
after(async () => {
  await server?.stop();
});

test('eight header-lie bombs at once: every one ends, memory stays bounded and comes back', { timeout: 300_000 }, async () => {
  // Warm-up: models loaded, first-use allocations made, before the baseline.
  const [warm] = await headerLies([[64, 64]]);
  await headerLieBurst(server.url, [warm], server.rssMiB);
  const lies = await headerLies([[4000, 4000]]);
  const jpeg = lies.find((l) => l.format === 'jpeg')!;
  const burst = [...Array(8).fill(jpeg), ...lies.filter((l) => l.format !== 'jpeg')];
  const report = await headerLieBurst(server.url, burst, server.rssMiB);
  for (const [name, outcome] of Object.entries(report.outcomes)) {
    // The JPEG decoder fills what the data does not cover; PNG and WebP decoders refuse the missing data.
    assert.equal(outcome, name.startsWith('jpeg') ? 'completed' : 'failed UNDECODABLE_IMAGE', name);
  }
  const peak = report.peakMiB - report.beforeMiB;
  assert.ok(peak <= PEAK_GROWTH_MIB, `RSS rose ${peak.toFixed(0)} MiB (from ${report.beforeMiB.toFixed(0)}) while they ran; bound ${PEAK_GROWTH_MIB}`);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const left = server.rssMiB() - report.beforeMiB;
  assert.ok(left <= AFTER_GROWTH_MIB, `RSS stayed ${left.toFixed(0)} MiB above the baseline after the burst; bound ${AFTER_GROWTH_MIB}`);
  assert.ok(server.alive());
});

test('a header over the whole budget fails at once with IMAGE_TOO_LARGE naming DECODE_PIXEL_BUDGET', { timeout: 120_000 }, async () => {
  const [jpeg] = await headerLies([[6000, 3000]]);
  const res = await fetch(`${server.url}/v1/images`, { method: 'POST', body: new Uint8Array(jpeg.bytes), headers: { 'content-type': 'image/jpeg' } });
  assert.equal(res.status, 202);
  const { job_id } = (await res.json()) as { job_id: string };
  const started = Date.now();
  const job = (await (await fetch(`${server.url}/v1/jobs/${job_id}?wait=30s`)).json()) as { status: string; error?: { code: string; message: string } };
  assert.equal(job.status, 'failed');
  assert.equal(job.error?.code, 'IMAGE_TOO_LARGE');
  assert.match(job.error!.message, /6000x3000 .*DECODE_PIXEL_BUDGET/);
  assert.ok(Date.now() - started < 5000, 'refused from the header, not after a decode');
});
