import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { loadOpenalpr, upright } from '../../eval/openalpr.js';

describe('openalpr labels', () => {
  test('every photo of the development split has its one plate inside the upright image', async () => {
    const photos = await loadOpenalpr();
    assert.deepEqual([photos.filter((p) => p.region === 'us').length, photos.filter((p) => p.region === 'eu').length, photos.filter((p) => p.region === 'br').length], [111, 54, 57]);
    // Hand labels may overrun the frame by a pixel or two (br/PJT2905 starts at x = -1).
    const slack = 2;
    for (const p of photos) {
      const [x, y, w, h] = p.gt.objects[0].box;
      assert.ok(x >= -slack && y >= -slack && w > 0 && h > 0 && x + w <= p.gt.width + slack && y + h <= p.gt.height + slack, `${p.name}: ${p.gt.objects[0].box}`);
    }
  });

  test('a box in stored pixels follows the EXIF rotation the pipeline applies (sharp.rotate)', async () => {
    // A 40×20 image, red 4×2 block at (30, 2) as stored; each orientation must put the box on the red pixels after .rotate().
    const raw = Buffer.alloc(40 * 20 * 3, 0);
    for (let yy = 2; yy < 4; yy++) for (let xx = 30; xx < 34; xx++) raw.set([255, 0, 0], (yy * 40 + xx) * 3);
    for (const orientation of [1, 3, 6, 8]) {
      const jpeg = await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } }).png().withMetadata({ orientation }).toBuffer();
      const { data, info } = await sharp(jpeg).rotate().raw().toBuffer({ resolveWithObject: true });
      const [bx, by, bw, bh] = upright([30, 2, 4, 2], orientation, 40, 20);
      for (let yy = by; yy < by + bh; yy++) for (let xx = bx; xx < bx + bw; xx++) assert.ok(data[(yy * info.width + xx) * info.channels] > 200, `orientation ${orientation}: pixel ${xx},${yy} is not red`);
    }
    assert.throws(() => upright([0, 0, 1, 1], 2, 10, 10), /mirrored/);
  });
});
