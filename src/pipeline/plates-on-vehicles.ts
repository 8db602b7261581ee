import type { RawDetection } from '../models/postprocess/candidates.js';
import { clipRegion, type PixelRegion } from '../models/input.js';

/** COCO classes that carry licence plates. */
export const VEHICLE_CLASSES: ReadonlySet<string> = new Set(['car', 'truck', 'bus', 'motorcycle']);

/** A plate's likely height in pixels for a vehicle box: about 1/12 of a car's width seen from behind or ahead. */
export const plateSizeOf = (vehicleWidth: number) => vehicleWidth / 12;

/**
 * Regions for a plate pass on each vehicle the object detector found: the box grown by `grow`
 * on each side (a plate sits at the box edge), largest first, at most `max` of them. A small,
 * distant car is upscaled to the plate model's input, which is where the recall comes from.
 * With `fullScale` (how far the full-frame pass shrinks the image), vehicles whose plate that pass
 * already shows at `enough` model pixels or more get no crop: close-ups cost one pass, not two.
 */
export function vehicleRegions(
  objects: RawDetection[],
  labels: string[],
  imageWidth: number,
  imageHeight: number,
  options: { minScore: number; max: number; grow?: number; minSide?: number; fullScale?: number; enough?: number },
): PixelRegion[] {
  const grow = options.grow ?? 0.1;
  const minSide = options.minSide ?? 24;
  const fullScale = options.fullScale ?? 1;
  const enough = options.enough ?? Infinity;
  return objects
    .filter((o) => o.score >= options.minScore && VEHICLE_CLASSES.has(labels[o.classId] ?? ''))
    .filter((o) => Math.min(o.x2 - o.x1, o.y2 - o.y1) >= minSide)
    .filter((o) => plateSizeOf(o.x2 - o.x1) / fullScale < enough)
    .sort((a, b) => (b.x2 - b.x1) * (b.y2 - b.y1) - (a.x2 - a.x1) * (a.y2 - a.y1))
    .slice(0, options.max)
    .map((o) => {
      const dx = (o.x2 - o.x1) * grow;
      const dy = (o.y2 - o.y1) * grow;
      return clipRegion({ x: o.x1 - dx, y: o.y1 - dy, width: o.x2 - o.x1 + 2 * dx, height: o.y2 - o.y1 + 2 * dy }, imageWidth, imageHeight);
    })
    .filter((r): r is PixelRegion => r !== null);
}
