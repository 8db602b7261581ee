// Per-frame scoring of one clip's blurred regions against its labels, the image eval's criteria
// applied frame by frame: a label is found when a box of its class overlaps it at IoU >= 0.3
// (run.ts's IOU_MATCH), and left unblurred when less than half of its pixels lie under a blur region.
import type { GtClass } from '../ground-truth.js';
import type { FrameLabel } from './clips.js';

export const IOU_MATCH = 0.3;
export const UNBLURRED_BELOW = 0.5;

export interface ScoredBox {
  class: GtClass | null;
  box: { x: number; y: number; width: number; height: number };
}

export interface VideoTally {
  /** Label-frames: one labelled object in one frame. */
  labelFrames: number;
  found: number;
  unblurred: number;
  /** Frames with at least one label, and those with at least one label left unblurred. */
  frames: number;
  framesWithUnblurred: number;
  /** Label pixels summed over label-frames, and those under no blur region. */
  pixels: number;
  uncoveredPixels: number;
}

export const newVideoTally = (): VideoTally => ({ labelFrames: 0, found: 0, unblurred: 0, frames: 0, framesWithUnblurred: 0, pixels: 0, uncoveredPixels: 0 });

function iou(a: [number, number, number, number], b: ScoredBox['box']): number {
  const w = Math.min(a[0] + a[2], b.x + b.width) - Math.max(a[0], b.x);
  const h = Math.min(a[1] + a[3], b.y + b.height) - Math.max(a[1], b.y);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / (a[2] * a[3] + b.width * b.height - w * h);
}

/** Pixels of the label (whole pixels its box touches) and how many of them no blur region covers. */
function coverage(label: FrameLabel['box'], regions: ScoredBox['box'][]): { pixels: number; uncovered: number } {
  const [x0, y0] = [Math.floor(label[0]), Math.floor(label[1])];
  const [x1, y1] = [Math.ceil(label[0] + label[2]), Math.ceil(label[1] + label[3])];
  const near = regions.filter((r) => r.x < x1 && r.x + r.width > x0 && r.y < y1 && r.y + r.height > y0);
  let uncovered = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const [cx, cy] = [x + 0.5, y + 0.5];
      if (!near.some((r) => cx >= r.x && cx < r.x + r.width && cy >= r.y && cy < r.y + r.height)) uncovered++;
    }
  }
  return { pixels: (x1 - x0) * (y1 - y0), uncovered };
}

/** Adds one frame to each tally in `into`: boxes are what was detected or tracked, regions what was blurred. */
export function scoreFrame(labels: FrameLabel[], boxes: ScoredBox[], regions: ScoredBox['box'][], into: VideoTally[]): Array<{ label: FrameLabel; found: boolean; unblurred: boolean }> {
  const used = new Set<number>();
  const out: Array<{ label: FrameLabel; found: boolean; unblurred: boolean; pixels: number; uncovered: number }> = [];
  for (const label of labels) {
    let best = -1;
    let bestIou = IOU_MATCH;
    boxes.forEach((b, i) => {
      if (used.has(i) || b.class !== label.class) return;
      const v = iou(label.box, b.box);
      if (v >= bestIou) [best, bestIou] = [i, v];
    });
    if (best >= 0) used.add(best);
    const { pixels, uncovered } = coverage(label.box, regions);
    out.push({ label, found: best >= 0, unblurred: uncovered / pixels > 1 - UNBLURRED_BELOW, pixels, uncovered });
  }
  for (const t of into) {
    if (labels.length) t.frames++;
    if (out.some((o) => o.unblurred)) t.framesWithUnblurred++;
    for (const o of out) {
      t.labelFrames++;
      t.found += o.found ? 1 : 0;
      t.unblurred += o.unblurred ? 1 : 0;
      t.pixels += o.pixels;
      t.uncoveredPixels += o.uncovered;
    }
  }
  return out;
}
