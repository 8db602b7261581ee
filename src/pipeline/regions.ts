import type { Box, Detection, JobOptions } from '../job.js';
import { kindOf } from '../kinds.js';

/** Grows a box by `margin` of its size (half per side), inside the image: faces and plates (a kind's blurMargin) are blurred a little beyond their box so hairlines and plate frames go too. */
export function enlarge(box: Box, margin: number, imageWidth: number, imageHeight: number): Box {
  const dx = (box.width * margin) / 2;
  const dy = (box.height * margin) / 2;
  const x = Math.max(0, box.x - dx);
  const y = Math.max(0, box.y - dy);
  return {
    x,
    y,
    width: Math.min(imageWidth, box.x + box.width + dx) - x,
    height: Math.min(imageHeight, box.y + box.height + dy) - y,
  };
}

/** A kind blurred by default (faces, plates: src/kinds.ts) always; others only for the classes the request names. */
export function shouldBlur(detection: Pick<Detection, 'kind' | 'label'>, options: JobOptions): boolean {
  if (kindOf(detection.kind)?.blurred) return true;
  return options.blurClasses.includes(detection.label);
}

export function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
