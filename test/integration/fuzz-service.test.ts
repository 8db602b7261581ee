import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { documentedCodes, formatReport, reportProblems, runFuzz } from '../../harness/fuzz-run.js';

// Issue 16: a seeded subset of `npm run bench:fuzz` (10,000 cases there): image mutations through
// the HTTP API and protocol garbage on raw sockets, against one `pixveil serve` process.
const COUNT = Number(process.env.FUZZ_COUNT ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? 16);

describe('hostile inputs against one real server (seeded subset of bench:fuzz)', () => {
  test('the README lists every code the fuzz may meet, with its status', () => {
    const docs = documentedCodes();
    for (const [code, status] of [['BAD_REQUEST', 400], ['BAD_MULTIPART', 400], ['PAYLOAD_TOO_LARGE', 413], ['UNSUPPORTED_MEDIA_TYPE', 415], ['REQUEST_TIMEOUT', 408], ['HEADERS_TOO_LARGE', 431], ['SLOW_READER', 429], ['SERVER_BUSY', 503], ['INTERNAL', 500]] as const) {
      assert.equal(docs.http.get(code), status, code);
    }
    assert.ok(!docs.http.has('MAX_UPLOAD_BYTES'), 'settings named in parentheses are not codes');
    assert.deepEqual([...docs.job].sort(), ['ANIMATED_IMAGE', 'IMAGE_TOO_LARGE', 'UNDECODABLE_IMAGE']);
  });

  test(`${COUNT} seeded cases: the process stays up, every answer is documented, RSS stays bounded, a good photo completes afterwards`, { timeout: 240_000 }, async () => {
    const report = await runFuzz({ count: COUNT, seed: SEED, maxSeconds: 150 });
    console.log(formatReport(report));
    assert.deepEqual(reportProblems(report), []);
    assert.ok(report.ran >= Math.min(COUNT, 150), `only ${report.ran} of ${COUNT} cases ran within the time bound`);
    const families = Object.keys(report.families);
    for (const prefix of ['jpeg:', 'png:', 'webp:', 'http:', 'ws:']) assert.ok(families.some((f) => f.startsWith(prefix)), `no ${prefix} case ran`);
  });
});
