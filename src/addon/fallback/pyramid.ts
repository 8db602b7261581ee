import type { PyramidLevel } from '../types.js';

/**
 * The next pyramid level: each RGB pixel is the rounded mean of a 2×2 block (alpha dropped).
 * An odd last row or column is left out, so level pixel (i, j) covers exactly image pixels
 * [i·2^k, (i+1)·2^k) × [j·2^k, (j+1)·2^k). Mirrors native/src/pyramid.cc.
 */
export function halveImageFallback(level: PyramidLevel): PyramidLevel {
  const width = Math.floor(level.width / 2);
  const height = Math.floor(level.height / 2);
  const { data, channels } = level;
  const out = new Uint8Array(width * height * 3);
  const stride = level.width * channels;
  for (let y = 0; y < height; y++) {
    const top = 2 * y * stride;
    const bottom = top + stride;
    const row = y * width * 3;
    for (let x = 0; x < width; x++) {
      const a = top + 2 * x * channels;
      const b = bottom + 2 * x * channels;
      for (let c = 0; c < 3; c++) {
        out[row + x * 3 + c] = (data[a + c] + data[a + channels + c] + data[b + c] + data[b + channels + c] + 2) >> 2;
      }
    }
  }
  return { data: out, width, height, channels: 3, scale: level.scale * 2 };
}
