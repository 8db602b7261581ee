import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RawDetection } from '../../src/models/postprocess/candidates.js';
import { headRegions } from '../../src/pipeline/faces-on-persons.js';
import { planTiles } from '../../src/pipeline/tiling.js';

const person = (x1: number, y1: number, x2: number, y2: number, score = 0.8): RawDetection => ({ x1, y1, x2, y2, score, classId: 0 });
const head = { minScore: 0.3, max: 8, modelWidth: 320, modelHeight: 240, fullScale: 6 };

describe('tiles for the finer passes', () => {
  test('cover the image, keep the model aspect ratio, stay within maxScale and overlap', () => {
    for (const [w, h] of [[1920, 1080], [1080, 1920], [4000, 3000], [1600, 898]]) {
      for (const maxScale of [1.5, 2, 2.6, 3]) {
        const tiles = planTiles(w, h, 320, 240, maxScale);
        assert.ok(tiles.length > 0);
        for (const t of tiles) {
          assert.ok(t.width <= 320 * maxScale + 1 && t.x >= 0 && t.y >= 0 && t.x + t.width <= w && t.y + t.height <= h);
          if (t.width < w && t.height < h) assert.ok(Math.abs(t.width / t.height - 4 / 3) < 0.01);
        }
        // Every pixel on a coarse grid lies in some tile.
        for (let y = 0; y < h; y += 37) for (let x = 0; x < w; x += 37) assert.ok(tiles.some((t) => x >= t.x && x < t.x + t.width && y >= t.y && y < t.y + t.height), `${x},${y} uncovered`);
      }
    }
  });

  test('the fewest tiles that meet maxScale, made as fine as that grid allows', () => {
    const tiles = planTiles(1920, 1080, 320, 240, 3);
    assert.equal(tiles.length, 6);
    assert.ok(tiles[0].width / 320 < 2.6, `scale ${tiles[0].width / 320}`);
    assert.equal(planTiles(1920, 1080, 320, 240, 2).length, 12);
  });

  test('none when the full-image pass is fine enough', () => {
    assert.deepEqual(planTiles(640, 480, 320, 240, 2), []);
  });
});

describe('head regions of persons for the face pass', () => {
  test('the top of a small standing person, in the model aspect ratio, upscaled into the model input', () => {
    const { regions, persons, skipped } = headRegions([person(1000, 500, 1060, 680)], 0, 1920, 1080, head);
    assert.equal(persons, 1);
    assert.equal(skipped, 0);
    const [r] = regions;
    assert.ok(r.y <= 500 && r.y + r.height < 680, 'the head, not the legs');
    assert.ok(r.x <= 1000 && r.x + r.width >= 1060, 'the full width of the person');
    assert.ok(Math.abs(r.width / r.height - 4 / 3) < 0.05);
    assert.ok(r.width < 320, 'upscaled into the model input');
  });

  test('no crop for persons whose face the full-image pass already sees, nor for other classes or low scores', () => {
    const objects = [person(100, 100, 700, 1000), { ...person(1000, 500, 1060, 680), classId: 2 }, person(1200, 500, 1260, 680, 0.1)];
    assert.deepEqual(headRegions(objects, 0, 1920, 1080, head), { regions: [], persons: 0, skipped: 0 });
  });

  test('at most `max` crops, best score first, the rest counted as skipped', () => {
    const objects = [0.5, 0.9, 0.7].map((s, i) => person(200 * i, 500, 200 * i + 60, 680, s));
    const { regions, persons, skipped } = headRegions(objects, 0, 1920, 1080, { ...head, max: 2 });
    assert.equal(regions.length, 2);
    assert.equal(persons, 3);
    assert.equal(skipped, 1);
    assert.equal(Math.round(regions[0].x + regions[0].width / 2), 230, 'the 0.9 person first');
  });

  test('a crop at the image edge is shifted inside, not cut', () => {
    const [r] = headRegions([person(0, 0, 40, 120)], 0, 1920, 1080, head).regions;
    assert.equal(r.x, 0);
    assert.equal(r.y, 0);
    assert.ok(Math.abs(r.width / r.height - 4 / 3) < 0.05);
  });
});
