// JPEG in, JPEG out: the blocks no blurred region touches come back as they were. Real photos from
// ../shared/fixtures, turned into each kind of JPEG at test time (sharp, jpegtran), run through the
// pipeline's own decode, blur and encode stages.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import exifReader from 'exif-reader';
import sharp from 'sharp';
import { jpegBlocks, pixelOps, type BlurRegion } from '../../src/addon/index.js';
import { createJpegBlocks } from '../../src/addon/jpeg-blocks.js';
import { PixveilError } from '../../src/errors.js';
import { outputExt } from '../../src/image-format.js';
import type { JobOptions } from '../../src/job.js';
import { decodeImage } from '../../src/pipeline/decode.js';
import { encodeOutput, type EncodedOutput } from '../../src/pipeline/encode.js';
import { facesDir, platesDir, readFixture } from '../../harness/fixtures.js';
import { countRestartMarkers, decodePixels, detailInside, farPixels, jpegMarkers, meanDiffInside, withRestartMarkers, type Decoded } from '../../harness/jpeg-blocks.js';
import { containerSegments } from '../../harness/segments.js';

const blocksSkip = jpegBlocks.support.available ? false : `JPEG blocks unavailable here: ${jpegBlocks.support.detail}`;

// uf_2.jpg: a 1024×484 group photo; the boxes sit on faces, one on an MCU corner, one at the image's edge.
const photo = readFixture(facesDir, 'uf_2.jpg');
const boxes: BlurRegion[] = [
  { x: 100.5, y: 80.2, width: 60, height: 70 },
  { x: 432, y: 160, width: 33, height: 41 },
  { x: 700.3, y: 390.7, width: 90.4, height: 200 },
];

interface Run {
  input: Decoded;
  blurred: Decoded;
  output: Decoded;
  encoded: EncodedOutput;
  bytes: Buffer;
}

async function anonymize(jpeg: Buffer, regions = boxes, options: { format?: JobOptions['format']; quality?: number; metadata?: 'strip' | 'safe' } = {}): Promise<Run> {
  const decoded = await decodeImage(jpeg, 100_000_000);
  const input = await decodePixels(jpeg);
  pixelOps.blurRegions(decoded.image, regions, { style: 'gaussian', shape: 'box' });
  const ext = outputExt(options.format ?? 'same', decoded.format);
  const encoded = await encodeOutput(decoded.image, ext, options.quality, { policy: options.metadata ?? 'strip', exif: decoded.exif }, { input: jpeg, decoded, regions });
  const { data, width, height, channels } = decoded.image;
  return { input, blurred: { data: Buffer.from(data), width, height, channels }, output: await decodePixels(encoded.data), encoded, bytes: encoded.data };
}

/** The promises a kept-blocks output makes: untouched pixels identical, boxes blurred, the size of the input. */
function assertBlocksKept(run: Run, jpeg: Buffer, what: string, regions = boxes): void {
  assert.equal(run.encoded.method, 'blocks', `${what}: ${run.encoded.reason}`);
  const { far, changed, maxDiff } = farPixels(run.input, run.output, regions);
  assert.ok(far > run.input.width * run.input.height * 0.5, `${what}: most pixels are far from the boxes (${far})`);
  assert.equal(changed, 0, `${what}: ${changed} of ${far} pixels farther than 16 px from every box changed (max ${maxDiff})`);
  for (const box of regions) {
    // What the blur stage made, within JPEG's rounding, and much less detail than the photo had there.
    assert.ok(meanDiffInside(run.blurred, run.output, box) < 3, `${what}: the box at ${box.x},${box.y} holds the blurred pixels`);
    assert.ok(detailInside(run.output, box) < detailInside(run.input, box) * 0.5, `${what}: the box at ${box.x},${box.y} is blurred`);
  }
  // Never more than 5% larger; smaller where the input's Huffman tables were not optimal (jpegtran's
  // standard tables: ×0.86), since the output's are, and blurred blocks cost fewer bits.
  const ratio = run.bytes.length / jpeg.length;
  assert.ok(ratio > 0.8 && ratio < 1.05, `${what}: output ${run.bytes.length} bytes for ${jpeg.length} in (×${ratio.toFixed(3)})`);
  assert.ok(run.encoded.mcus && run.encoded.mcus.rewritten > 0 && run.encoded.mcus.rewritten < run.encoded.mcus.total / 4, `${what}: ${JSON.stringify(run.encoded.mcus)}`);
}

describe('JPEG blocks kept', { skip: blocksSkip }, () => {
  test('the comparison can fail: a whole re-encode changes pixels far from every box', async () => {
    const run = await anonymize(photo, boxes, { quality: 90 });
    assert.equal(run.encoded.method, 'whole');
    assert.ok(farPixels(run.input, run.output, boxes).changed > 10_000);
  });

  test('baseline 4:2:0 photo: far pixels identical, boxes blurred, same size, no metadata', async () => {
    const run = await anonymize(photo);
    assertBlocksKept(run, photo, 'baseline');
    assert.deepEqual(containerSegments(run.bytes).filter((s) => s.startsWith('APP') || s === 'COM'), []);
  });

  test('format=jpeg on a JPEG keeps the blocks like format=same', async () => {
    assertBlocksKept(await anonymize(photo, boxes, { format: 'jpeg' }), photo, 'format=jpeg');
  });

  test('progressive input: blocks kept, written progressive', async () => {
    const jpeg = await sharp(photo).jpeg({ quality: 88, progressive: true }).toBuffer();
    const run = await anonymize(jpeg);
    assertBlocksKept(run, jpeg, 'progressive');
    assert.equal((await sharp(run.bytes).metadata()).isProgressive, true);
    assert.equal(run.encoded.huffman, 'optimal', 'a progressive output gets tables made for it');
  });

  test('restart markers: blocks kept, the interval kept', async () => {
    const jpeg = withRestartMarkers(await sharp(photo).jpeg({ quality: 90 }).toBuffer(), 2);
    assert.ok(jpegMarkers(jpeg).includes(0xdd) && countRestartMarkers(jpeg) > 100, 'jpegtran wrote restart markers');
    const run = await anonymize(jpeg);
    assertBlocksKept(run, jpeg, 'restart markers');
    assert.ok(jpegMarkers(run.bytes).includes(0xdd), 'DRI in the output');
    assert.equal(countRestartMarkers(run.bytes), countRestartMarkers(jpeg));
  });

  test('grayscale input: blocks kept, still one channel', async () => {
    const jpeg = await sharp(photo).toColourspace('b-w').jpeg({ quality: 90 }).toBuffer();
    assert.equal((await sharp(jpeg).metadata()).channels, 1, 'a one-channel JPEG');
    const run = await anonymize(jpeg);
    assertBlocksKept(run, jpeg, 'grayscale');
    assert.equal((await sharp(run.bytes).metadata()).channels, 1);
  });

  test('4:4:4 sampling and a size that is not a whole number of MCUs, boxes on the edges', async () => {
    const jpeg = await sharp(readFixture(platesDir, 'alpr_h786poj.jpg')).extract({ left: 3, top: 5, width: 469, height: 627 }).jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer();
    const edges: BlurRegion[] = [
      { x: 430, y: 100, width: 39, height: 50 },
      { x: 120, y: 590, width: 80, height: 37 },
      { x: 200.5, y: 300.5, width: 70, height: 20 },
    ];
    assertBlocksKept(await anonymize(jpeg, edges), jpeg, '4:4:4, 469×627', edges);
  });

  test('many overlapping boxes (a crowd) and none at all', async () => {
    const crowd = readFixture(facesDir, 'uf_9.jpg');
    const meta = await sharp(crowd).metadata();
    const many: BlurRegion[] = Array.from({ length: 40 }, (_, i) => ({ x: 20 + (i % 10) * 35, y: 30 + Math.floor(i / 10) * 30, width: 40, height: 44 }));
    const run = await anonymize(crowd, many);
    assert.equal(run.encoded.method, 'blocks', run.encoded.reason);
    assert.equal(farPixels(run.input, run.output, many).changed, 0);
    const none = await anonymize(crowd, []);
    assert.equal(none.encoded.method, 'blocks');
    assert.equal(none.encoded.mcus?.rewritten, 0);
    assert.equal(farPixels(none.input, none.output, []).changed, 0, `${meta.width}×${meta.height}: every pixel as it was`);
    const ratio = none.bytes.length / crowd.length;
    assert.ok(Math.abs(ratio - 1) < 0.02, `nothing blurred: ${none.bytes.length} bytes for ${crowd.length}`);
  });

  test('metadata=safe writes the kept EXIF fields and an sRGB profile, never GPS', async () => {
    const tagged = await sharp(photo)
      .withExif({ IFD0: { Copyright: 'pixveil test', Make: 'TestCam', ImageDescription: 'home address' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 1234/100' } })
      .jpeg({ quality: 90 })
      .toBuffer();
    const run = await anonymize(tagged, boxes, { metadata: 'safe' });
    assertBlocksKept(run, tagged, 'metadata=safe');
    const meta = await sharp(run.bytes).metadata();
    const exif = exifReader(meta.exif!);
    assert.equal(exif.Image?.Copyright, 'pixveil test');
    assert.equal(exif.Image?.Make, 'TestCam');
    assert.equal(exif.Image?.ImageDescription, undefined);
    assert.equal(exif.GPSInfo, undefined);
    assert.ok(meta.icc, 'an sRGB profile');
    const stripped = await anonymize(tagged);
    assert.equal((await sharp(stripped.bytes).metadata()).exif, undefined, 'strip: no EXIF');
  });
});

// The output's Huffman tables: an input coded with the standard ones is written with them; one with
// its own (optimised) tables keeps them, extended by the symbols re-encoded blocks need that they
// lack, so no second entropy pass is made (a missing code would corrupt the stream: the decode of
// every output here would fail or show it).
describe('Huffman tables of a kept-blocks output', { skip: blocksSkip }, () => {
  test('standard tables in, standard tables out', async () => {
    const jpeg = await sharp(photo).jpeg({ quality: 90, optimiseCoding: false }).toBuffer();
    const run = await anonymize(jpeg);
    assertBlocksKept(run, jpeg, 'standard tables');
    assert.equal(run.encoded.huffman, 'standard');
  });

  test('optimised tables in: the input\'s own tables, blocks kept', async () => {
    const jpeg = await sharp(photo).jpeg({ quality: 90, optimiseCoding: true }).toBuffer();
    const run = await anonymize(jpeg);
    assertBlocksKept(run, jpeg, 'optimised tables');
    assert.ok(run.encoded.huffman === 'input' || run.encoded.huffman === 'input-extended', String(run.encoded.huffman));
  });

  test('optimised tables and restart markers: DC predictors reset where the input resets them', async () => {
    const jpeg = withRestartMarkers(await sharp(photo).jpeg({ quality: 90 }).toBuffer(), 3, true);
    const run = await anonymize(jpeg);
    assertBlocksKept(run, jpeg, 'optimised tables, restart markers');
    assert.ok(run.encoded.huffman?.startsWith('input'), String(run.encoded.huffman));
    assert.equal(countRestartMarkers(run.bytes), countRestartMarkers(jpeg));
  });

  test('blocks that need symbols the input never coded: its tables are extended, the pixels come out', async () => {
    // A smooth gradient codes few AC symbols; noise written into a box needs many more.
    const width = 320;
    const height = 240;
    const gradient = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) gradient.fill(Math.round((x * 200) / width + (y * 40) / height), (y * width + x) * 3, (y * width + x) * 3 + 3);
    const jpeg = await sharp(gradient, { raw: { width, height, channels: 3 } }).jpeg({ quality: 95, optimiseCoding: true }).toBuffer();
    const decoded = await decodeImage(jpeg, 100_000_000);
    const input = await decodePixels(jpeg);
    const box = { x: 64, y: 48, width: 96, height: 80 };
    let seed = 7;
    for (let y = box.y; y < box.y + box.height; y++) {
      for (let x = box.x; x < box.x + box.width; x++) {
        for (let c = 0; c < 3; c++) {
          seed = (seed * 1103515245 + 12345) & 0x7fffffff;
          decoded.image.data[(y * width + x) * 3 + c] = seed % 256;
        }
      }
    }
    const noisy = { data: Buffer.from(decoded.image.data), width, height, channels: 3 };
    const encoded = await encodeOutput(decoded.image, 'jpg', undefined, { policy: 'strip' }, { input: jpeg, decoded, regions: [box] });
    assert.equal(encoded.method, 'blocks', encoded.reason);
    assert.equal(encoded.huffman, 'input-extended');
    const output = await decodePixels(encoded.data);
    assert.equal(farPixels(input, output, [box]).changed, 0, 'far pixels as they were');
    // Noise survives q95's quantisation only roughly (chroma is subsampled), but nothing like the gradient that was there.
    const inner = { x: box.x + 8, y: box.y + 8, width: box.width - 16, height: box.height - 16 };
    assert.ok(meanDiffInside(noisy, output, inner) < 40, `the box holds the new pixels (mean diff ${meanDiffInside(noisy, output, inner).toFixed(1)})`);
    assert.ok(meanDiffInside(input, output, inner) > 50, 'and not the old ones');
  });
});

describe('JPEG outputs re-encoded whole, as before', () => {
  async function assertWhole(run: Run, reason: RegExp, what: string): Promise<void> {
    assert.equal(run.encoded.method, 'whole', what);
    assert.match(run.encoded.reason ?? '', reason, what);
    const meta = await sharp(run.bytes).metadata();
    assert.deepEqual([meta.width, meta.height, meta.space], [run.input.width, run.input.height, 'srgb'], what);
  }

  test('an explicit quality', async () => {
    await assertWhole(await anonymize(photo, boxes, { quality: 90 }), /quality=90/, 'quality=90');
  });

  test('a PNG in, or another format out', async () => {
    await assertWhole(await anonymize(await sharp(photo).png().toBuffer()), /not JPEG in and JPEG out/, 'PNG in');
    const webp = await anonymize(photo, boxes, { format: 'webp' });
    assert.equal(webp.encoded.method, 'whole');
    assert.equal((await sharp(webp.bytes).metadata()).format, 'webp');
  });

  test('EXIF-rotated input: re-encoded whole, upright (its stored blocks lie sideways)', async () => {
    const stored = await sharp(photo).rotate(270).withMetadata({ orientation: 6 }).jpeg({ quality: 92 }).toBuffer();
    const run = await anonymize(stored);
    await assertWhole(run, /EXIF orientation 6/, 'orientation 6');
    assert.deepEqual([run.output.width, run.output.height], [1024, 484]);
  });

  test('CMYK input: re-encoded whole as sRGB', { skip: blocksSkip }, async () => {
    const cmyk = await sharp(photo).toColourspace('cmyk').jpeg({ quality: 92 }).toBuffer();
    assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
    const run = await anonymize(cmyk);
    await assertWhole(run, /CMYK|an embedded ICC profile/, 'CMYK');
    assert.equal((await sharp(run.bytes).metadata()).channels, 3);
  });

  test('an embedded ICC profile (decode converted its colours)', { skip: blocksSkip }, async () => {
    await assertWhole(await anonymize(await sharp(photo).withIccProfile('p3').jpeg({ quality: 90 }).toBuffer()), /ICC profile/, 'P3 profile');
  });

  test('corrupt entropy-coded data: the pixels the detectors saw, re-encoded whole', { skip: blocksSkip }, async () => {
    const jpeg = Buffer.from(await sharp(photo).jpeg({ quality: 90 }).toBuffer());
    // Garbage in the middle of the scan: libjpeg warns and carries on.
    for (let i = Math.floor(jpeg.length * 0.6); i < Math.floor(jpeg.length * 0.6) + 64; i++) jpeg[i] = (i * 37) & 0xfe;
    const run = await anonymize(jpeg);
    await assertWhole(run, /corrupt JPEG data/, 'corrupt');
  });

  test('without libjpeg-turbo (PIXVEIL_JPEG=off build, or PIXVEIL_JPEG_BLOCKS=off) every JPEG says why', async () => {
    const absent = createJpegBlocks(undefined, 'the native addon is not loaded');
    assert.deepEqual(absent.support, { available: false, detail: 'the native addon is not loaded' });
    const decoded = await decodeImage(photo, 100_000_000);
    assert.deepEqual(await absent.keep({ jpeg: photo, image: decoded.image, regions: boxes }), { kept: false, reason: 'the native addon is not loaded' });
  });
});

test('keepJpegBlocks options get sharp\'s message template', async () => {
  const image = { data: new Uint8Array(8 * 8 * 3), width: 8, height: 8, channels: 3 as const };
  const cases: [string, unknown, string][] = [
    ['jpeg is not bytes', { jpeg: 'x', image, regions: [] }, 'Expected a Uint8Array for request.jpeg but received x of type string'],
    ['jpeg is not a JPEG', { jpeg: new Uint8Array([0x89, 0x50, 0x4e, 0x47]), image, regions: [] }, 'Expected JPEG bytes (starting FF D8) for request.jpeg but received 4 bytes of type string'],
    ['a region is not a number', { jpeg: photo, image, regions: [{ x: 0, y: 0, width: 'wide', height: 1 }] }, 'Expected a finite number for request.regions[0].width but received wide of type string'],
    ['a marker code is not APPn', { jpeg: photo, image, regions: [], markers: [{ code: 0xfe, payload: new Uint8Array(1) }] }, 'Expected an APPn marker code from 224 (0xE0) to 239 (0xEF) for request.markers[0].code but received 254 of type number'],
    ['a marker is too long', { jpeg: photo, image, regions: [], markers: [{ code: 0xe1, payload: new Uint8Array(70000) }] }, 'Expected at most 65533 bytes for request.markers[0].payload.length but received 70000 of type number'],
  ];
  for (const [what, request, message] of cases) {
    await assert.rejects(jpegBlocks.keep(request as never), (err: unknown) => err instanceof PixveilError && err.code === 'INVALID_OPTION' && err.message === message, what);
  }
});
