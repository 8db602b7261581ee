// The anti-aliasing pyramid of one decoded image, shared by all of its model passes: level 0 is
// the image itself, level k its 2^k × smaller 2×2 box average. Levels are built on first use,
// each from the one above, so passes that never shrink far pay for nothing.
import type { PyramidLevel, RawImage } from './types.js';

export type HalveImage = (level: PyramidLevel) => PyramidLevel;

/** The deepest level that still has a pixel in both directions. */
export function deepestLevel(width: number, height: number): number {
  let level = 0;
  while (Math.floor(width / 2 ** (level + 1)) >= 1 && Math.floor(height / 2 ** (level + 1)) >= 1) level++;
  return level;
}

export class ImagePyramid {
  readonly image: RawImage;
  /** Levels 0…maxLevel may be sampled; 0 turns the pyramid off (plain bilinear on the image). */
  readonly maxLevel: number;
  readonly #levels: PyramidLevel[];
  readonly #halve: HalveImage;

  /**
   * Build it with pixelOps.buildPyramid. The levels read `image.data` when first built, so
   * build them (or finish the passes) before the image is blurred in place.
   */
  constructor(image: RawImage, maxLevel: number, halve: HalveImage) {
    this.image = image;
    this.maxLevel = maxLevel;
    this.#halve = halve;
    this.#levels = [{ data: image.data, width: image.width, height: image.height, channels: image.channels, scale: 1 }];
  }

  /** Level k, building it and the levels above it if needed. */
  level(k: number): PyramidLevel {
    if (!Number.isInteger(k) || k < 0 || k > this.maxLevel) throw new RangeError(`pyramid level ${k} is outside 0…${this.maxLevel}`);
    while (this.#levels.length <= k) this.#levels.push(this.#halve(this.#levels[this.#levels.length - 1]));
    return this.#levels[k];
  }

  /** How many levels exist now (level 0 included): what has been paid for so far. */
  get builtLevels(): number {
    return this.#levels.length;
  }
}
