import type { RawDetection } from '../models/postprocess/candidates.js';
import type { DetectionSettings } from '../config/detection.js';

export type PlausibilitySettings = DetectionSettings['plausibility'];

/**
 * Whether a face or plate box has a shape its kind can have, for its score. Detectors fire on
 * textures that resemble their kind at any scale; a box over a large share of the frame at a
 * modest score is such a false find (issue 21: an 889×462 "plate" over a 1024×484 group photo at
 * 0.372, a 453×446 "face" on a car's lights at 0.64) and blurring it wipes out the whole photo.
 * Real faces and plates that fill a frame score high (eval/README.md, "Plausibility"), so a large
 * box is kept when its score is. A plate box inside the frame must also have a plate's aspect (a
 * plate seen at a steep angle may be narrower than tall, never twice as tall as wide).
 */
export function plausible(raw: RawDetection, kind: string, imageWidth: number, imageHeight: number, rules: PlausibilitySettings): boolean {
  // Kinds without rules of their own (objects, kinds added to the registry) keep every box.
  if (kind !== 'face' && kind !== 'plate') return true;
  const width = raw.x2 - raw.x1;
  const height = raw.y2 - raw.y1;
  if (width <= 0 || height <= 0) return false;
  const share = (width * height) / (imageWidth * imageHeight);
  const rule = rules[kind];
  if (share >= rule.largeShare && raw.score < rule.largeMinScore) return false;
  // A box the frame's edge cuts may hold any slice of a plate, so only whole boxes are held to the plate's shape.
  const cut = raw.x1 <= 1 || raw.y1 <= 1 || raw.x2 >= imageWidth - 1 || raw.y2 >= imageHeight - 1;
  if (kind === 'plate' && !cut) {
    const aspect = width / height;
    if (aspect < rules.plate.minAspect || aspect > rules.plate.maxAspect) return false;
  }
  return true;
}
