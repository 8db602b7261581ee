import type { RawDetection } from '../models/postprocess/candidates.js';
import { clipRegion, type PixelRegion } from '../models/input.js';

/** COCO classes that carry licence plates. */
export const VEHICLE_CLASSES: ReadonlySet<string> = new Set(['car', 'truck', 'bus', 'motorcycle']);

/**
 * Regions for a plate pass on each vehicle the object detector found: the box grown by `grow`
 * on each side (a plate sits at the box edge), largest first, at most `max` of them. A small,
 * distant car is upscaled to the plate model's input, which is where the recall comes from.
 */
export function vehicleRegions(
  objects: RawDetection[],
  labels: string[],
  imageWidth: number,
  imageHeight: number,
  options: { minScore: number; max: number; grow?: number; minSide?: number },
): PixelRegion[] {
  const grow = options.grow ?? 0.1;
  const minSide = options.minSide ?? 24;
  return objects
    .filter((o) => o.score >= options.minScore && VEHICLE_CLASSES.has(labels[o.classId] ?? ''))
    .filter((o) => Math.min(o.x2 - o.x1, o.y2 - o.y1) >= minSide)
    .sort((a, b) => (b.x2 - b.x1) * (b.y2 - b.y1) - (a.x2 - a.x1) * (a.y2 - a.y1))
    .slice(0, options.max)
    .map((o) => {
      const dx = (o.x2 - o.x1) * grow;
      const dy = (o.y2 - o.y1) * grow;
      return clipRegion({ x: o.x1 - dx, y: o.y1 - dy, width: o.x2 - o.x1 + 2 * dx, height: o.y2 - o.y1 + 2 * dy }, imageWidth, imageHeight);
    })
    .filter((r): r is PixelRegion => r !== null);
}
