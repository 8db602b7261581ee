import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isPixveilError } from '../../src/errors.js';
import { decodeImage } from '../../src/pipeline/decode.js';
import { encodeImage } from '../../src/pipeline/encode.js';
import { darknetDir, facesDir, platesDir, readFixture } from '../../harness/fixtures.js';
import { mutate, seededRandom, smallCopy } from '../../harness/hostile-files.js';
import { startTestNode, waitForJob, type TestNode } from '../../harness/server.js';
import fs from 'node:fs';

// Codes a damaged image may end in; anything else (or a crash, or a hang) is a bug.
const CLEAN_CODES = new Set(['UNDECODABLE_IMAGE', 'IMAGE_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'ANIMATED_IMAGE', 'EMPTY_BODY']);
const SEED = 20240601;
const PER_INPUT_MS = 10_000;

async function seeds(): Promise<Buffer[]> {
  const photos = [readFixture(darknetDir, 'dog.jpg'), readFixture(facesDir, fs.readdirSync(facesDir).filter((f) => f.endsWith('.jpg'))[0]), readFixture(platesDir, fs.readdirSync(platesDir).filter((f) => /\.jpe?g$/i.test(f))[0])];
  const out: Buffer[] = [];
  for (const photo of photos) out.push(await smallCopy(photo, 'jpeg'), await smallCopy(photo, 'png'));
  return out;
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([work, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`HANG: ${what} took over ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

function tally(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

describe('fuzz: mutated real JPEGs and PNGs (fixed seed)', () => {
  test('300 mutations through decode + encode: each decodes or fails with a clean code, none hangs', async () => {
    const inputs = await seeds();
    const rand = seededRandom(SEED);
    const outcomes: Record<string, number> = {};
    const mutations: Record<string, number> = {};
    const deadline = Date.now() + 120_000;
    let ran = 0;
    for (let i = 0; i < 300 && Date.now() < deadline; i++) {
      const { data, mutation } = mutate(inputs[i % inputs.length], rand);
      tally(mutations, mutation);
      try {
        const decoded = await withTimeout(decodeImage(data, 20_000_000), PER_INPUT_MS, `decode #${i}`);
        await withTimeout(encodeImage(decoded.image, decoded.format, 80), PER_INPUT_MS, `encode #${i}`);
        tally(outcomes, 'decoded');
      } catch (err) {
        assert.ok(isPixveilError(err) && CLEAN_CODES.has(err.code), `input #${i} (${mutation}): ${(err as Error).message}`);
        tally(outcomes, err.code);
      }
      ran++;
    }
    console.log(`fuzz decode: ${ran} inputs, mutations ${JSON.stringify(mutations)}, outcomes ${JSON.stringify(outcomes)}`);
    assert.ok(ran >= 300, `only ${ran} inputs ran within the time bound`);
  });

  describe('through the HTTP API and the pool', () => {
    let server: TestNode;
    before(async () => {
      server = await startTestNode({ maxPixels: 20_000_000 });
    });
    after(async () => server.close());

    test('120 mutations uploaded: each is refused with a code or ends completed/failed with a clean code', async () => {
      const inputs = await seeds();
      const rand = seededRandom(SEED + 1);
      const outcomes: Record<string, number> = {};
      const deadline = Date.now() + 150_000;
      let ran = 0;
      for (let i = 0; i < 120 && Date.now() < deadline; i++) {
        const { data, mutation } = mutate(inputs[i % inputs.length], rand);
        const res = await fetch(`${server.url}/v1/images?detect=faces`, { method: 'POST', body: new Uint8Array(data) });
        const body = await res.json();
        if (res.status === 202) {
          const job = await waitForJob(server.url, body.job_id, 30_000);
          if (job.status === 'completed') tally(outcomes, 'completed');
          else {
            assert.ok(CLEAN_CODES.has(job.error.code), `upload #${i} (${mutation}): ${job.error.code} ${job.error.message}`);
            tally(outcomes, `failed:${job.error.code}`);
          }
        } else {
          assert.ok(CLEAN_CODES.has(body.error?.code), `upload #${i} (${mutation}): ${res.status} ${JSON.stringify(body)}`);
          tally(outcomes, `refused:${body.error.code}`);
        }
        ran++;
      }
      console.log(`fuzz HTTP: ${ran} uploads, outcomes ${JSON.stringify(outcomes)}`);
      assert.ok(ran >= 30, `only ${ran} uploads ran within the time bound`);
      assert.equal((await fetch(`${server.url}/v1/health`)).status, 200);
    });
  });
});
