import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { decodeImage } from '../../src/pipeline/decode.js';
import { facesDir, readFixture } from '../../harness/fixtures.js';
import { containerSegments } from '../../harness/segments.js';
import { startTestNode, waitForJob, type TestNode } from '../../harness/server.js';

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

function iou(a: Box, b: Box): number {
  const x1 = Math.max(a.x, b.x);
  const y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width);
  const y2 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  return inter / (a.width * a.height + b.width * b.height - inter);
}

async function assertNoMetadata(output: Buffer, what: string): Promise<void> {
  const meta = await sharp(output).metadata();
  assert.equal(meta.exif, undefined, `${what}: no EXIF`);
  assert.equal(meta.icc, undefined, `${what}: no ICC`);
  assert.equal(meta.xmp, undefined, `${what}: no XMP`);
  assert.equal(meta.orientation, undefined, `${what}: no orientation tag`);
  // Walk the container rather than search the bytes for short strings: 3 bytes like "GPS" turn up
  // by chance in compressed pixel data.
  const forbidden = new Set(['APP1', 'APP2', 'APP13', 'COM', 'eXIf', 'iCCP', 'tEXt', 'zTXt', 'iTXt', 'EXIF', 'XMP ', 'ICCP']);
  for (const segment of containerSegments(output)) assert.ok(!forbidden.has(segment), `${what}: no ${segment} segment`);
  for (const marker of ['Exif\0\0', 'http://ns.adobe.com/xap']) assert.ok(!output.includes(marker), `${what}: no "${marker}" in the bytes`);
}

test('the metadata check can fail: it sees EXIF and ICC segments in files that have them', async () => {
  const tagged = sharp(readFixture(facesDir, 'uf_2.jpg')).withExif({ IFD0: { Copyright: 'pixveil test' } }).withIccProfile('p3');
  const expected = { jpeg: ['APP1', 'APP2'], png: ['eXIf', 'iCCP'], webp: ['EXIF', 'ICCP'] } as const;
  for (const [format, segments] of Object.entries(expected)) {
    const seen = containerSegments(await tagged.clone().toFormat(format as 'jpeg').toBuffer());
    for (const segment of segments) assert.ok(seen.includes(segment), `${format}: ${segment} in ${seen.join(',')}`);
  }
});

describe('input formats: each variant of a real photo is processed correctly or refused with a code', () => {
  let server: TestNode;
  // uf_2.jpg: a group photo with several clear frontal faces.
  const photo = readFixture(facesDir, 'uf_2.jpg');
  let upright: { width: number; height: number; faces: Box[] };

  async function run(bytes: Buffer, query = '?detect=faces'): Promise<{ job: any; output?: Buffer }> {
    const res = await fetch(`${server.url}/v1/images${query}`, { method: 'POST', body: new Uint8Array(bytes) });
    const body = await res.json();
    assert.equal(res.status, 202, JSON.stringify(body));
    const job = await waitForJob(server.url, body.job_id, 60_000);
    if (job.status !== 'completed') return { job };
    const output = Buffer.from(await (await fetch(`${server.url}/v1/jobs/${job.job_id}/result`)).arrayBuffer());
    return { job, output };
  }

  before(async () => {
    server = await startTestNode({ maxPixels: 40_000_000 });
    const { job, output } = await run(await sharp(photo).jpeg({ quality: 92 }).toBuffer());
    assert.equal(job.status, 'completed');
    await assertNoMetadata(output!, 'baseline');
    upright = { width: job.result.width, height: job.result.height, faces: job.result.detections.filter((d: any) => d.kind === 'face').map((d: any) => d.box) };
    assert.ok(upright.faces.length >= 1, 'the baseline photo has detectable faces');
  });
  after(async () => server.close());

  test('EXIF orientation 6 and 8: output upright at the displayed size, faces found where they are', async () => {
    for (const [orientation, storedRotation] of [[6, 270], [8, 90]] as const) {
      // Stored sideways with a tag that turns it upright again, as a phone camera writes it.
      const stored = await sharp(photo).rotate(storedRotation).withMetadata({ orientation }).jpeg({ quality: 92 }).toBuffer();
      const meta = await sharp(stored).metadata();
      assert.equal(meta.orientation, orientation);
      assert.equal(meta.width, upright.height, 'stored sideways');
      const { job, output } = await run(stored);
      assert.equal(job.status, 'completed', JSON.stringify(job.error));
      assert.equal(job.result.width, upright.width, `orientation ${orientation}: width`);
      assert.equal(job.result.height, upright.height, `orientation ${orientation}: height`);
      const outMeta = await sharp(output!).metadata();
      assert.deepEqual([outMeta.width, outMeta.height], [upright.width, upright.height]);
      await assertNoMetadata(output!, `orientation ${orientation}`);
      const faces: Box[] = job.result.detections.filter((d: any) => d.kind === 'face').map((d: any) => d.box);
      const matched = upright.faces.filter((f) => faces.some((g) => iou(f, g) > 0.5)).length;
      assert.ok(matched >= Math.ceil(upright.faces.length * 0.8), `orientation ${orientation}: ${matched}/${upright.faces.length} faces where the upright photo has them`);
    }
  });

  test('CMYK, grayscale and progressive JPEG; 16-bit, grayscale and alpha PNG; alpha WebP', async () => {
    const variants: Array<[string, Buffer, { channels: number; format: string }]> = [
      ['CMYK JPEG', await sharp(photo).toColourspace('cmyk').jpeg({ quality: 92 }).toBuffer(), { channels: 3, format: 'jpeg' }],
      ['grayscale JPEG', await sharp(photo).greyscale().jpeg({ quality: 92 }).toBuffer(), { channels: 3, format: 'jpeg' }],
      ['progressive JPEG', await sharp(photo).jpeg({ quality: 92, progressive: true }).toBuffer(), { channels: 3, format: 'jpeg' }],
      ['16-bit PNG', await sharp(photo).toColourspace('rgb16').png().toBuffer(), { channels: 3, format: 'png' }],
      ['grayscale PNG', await sharp(photo).greyscale().png().toBuffer(), { channels: 3, format: 'png' }],
      ['alpha PNG', await sharp(photo).ensureAlpha(0.6).png().toBuffer(), { channels: 4, format: 'png' }],
      ['alpha WebP', await sharp(photo).ensureAlpha(0.6).webp({ quality: 90 }).toBuffer(), { channels: 4, format: 'webp' }],
    ];
    const sixteen = await sharp(variants[3][1]).metadata();
    assert.equal(sixteen.depth, 'ushort', 'the 16-bit PNG really is 16-bit');
    assert.equal((await sharp(variants[0][1]).metadata()).space, 'cmyk');
    for (const [name, bytes, want] of variants) {
      const { job, output } = await run(bytes);
      assert.equal(job.status, 'completed', `${name}: ${JSON.stringify(job.error)}`);
      const meta = await sharp(output!).metadata();
      assert.equal(meta.format, want.format, name);
      assert.equal(meta.channels, want.channels, `${name}: channels`);
      assert.equal(meta.space, 'srgb', `${name}: sRGB output`);
      assert.deepEqual([meta.width, meta.height], [upright.width, upright.height], name);
      await assertNoMetadata(output!, name);
      const faces = job.result.detections.filter((d: any) => d.kind === 'face').length;
      assert.ok(faces >= Math.ceil(upright.faces.length * 0.6), `${name}: ${faces} faces (upright: ${upright.faces.length})`);
    }
  });

  test('animated WebP is refused with ANIMATED_IMAGE; animated GIF is refused at upload (415)', async () => {
    const frame = (colour: string) => sharp({ create: { width: 64, height: 48, channels: 3, background: colour } }).png().toBuffer();
    const animated = await sharp([await frame('#f00'), await frame('#00f')], { join: { animated: true } }).webp().toBuffer();
    assert.equal((await sharp(animated).metadata()).pages, 2);
    const { job } = await run(animated, '');
    assert.equal(job.status, 'failed');
    assert.equal(job.error.code, 'ANIMATED_IMAGE');
    assert.match(job.error.message, /2 frames/);
    const gif = await sharp([await frame('#f00'), await frame('#00f')], { join: { animated: true } }).gif().toBuffer();
    const res = await fetch(`${server.url}/v1/images`, { method: 'POST', body: new Uint8Array(gif) });
    assert.equal(res.status, 415);
    assert.equal((await res.json()).error.code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('EXIF (with GPS), XMP and ICC in the input never reach the output', async () => {
    const tagged = await sharp(photo)
      .withExif({ IFD0: { Copyright: 'secret-owner', ImageDescription: 'home address' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 1234/100', GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 3900/100' } })
      .withIccProfile('p3')
      .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>secret-owner</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>')
      .jpeg({ quality: 92 })
      .toBuffer();
    const inMeta = await sharp(tagged).metadata();
    assert.ok(inMeta.exif && inMeta.icc && inMeta.xmp && tagged.includes('secret-owner'), 'the input carries all three');
    for (const format of ['same', 'png', 'webp']) {
      const { job, output } = await run(tagged, `?detect=faces&format=${format}`);
      assert.equal(job.status, 'completed');
      await assertNoMetadata(output!, `format=${format}`);
      assert.ok(!output!.includes('secret-owner'), `format=${format}: no trace of the owner`);
    }
  });

  test('job ids: 128 random bits, URL-safe, all distinct', async () => {
    const tiny = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#888' } }).jpeg().toBuffer();
    const ids = new Set<string>();
    let ones = 0;
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${server.url}/v1/images?detect=faces`, { method: 'POST', body: new Uint8Array(tiny) });
      const { job_id } = await res.json();
      assert.match(job_id, /^[A-Za-z0-9_-]{22}$/);
      const bytes = Buffer.from(job_id, 'base64url');
      assert.equal(bytes.length, 16);
      for (const b of bytes) for (let bit = 0; bit < 8; bit++) ones += (b >> bit) & 1;
      ids.add(job_id);
    }
    assert.equal(ids.size, 40);
    const share = ones / (40 * 128);
    assert.ok(share > 0.45 && share < 0.55, `bit balance ${share}`);
  });

  test('decode: MAX_DIMENSION is checked from the header', async () => {
    const wide = await sharp({ create: { width: 3000, height: 10, channels: 3, background: '#000' } }).png().toBuffer();
    await assert.rejects(decodeImage(wide, 1e9, { maxDimension: 2000 }), (err: any) => err.code === 'IMAGE_TOO_LARGE' && /MAX_DIMENSION/.test(err.message));
    assert.equal((await decodeImage(wide, 1e9, { maxDimension: 3000 })).image.width, 3000);
  });
});
