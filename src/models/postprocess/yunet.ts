import { CandidateSet, type RawDetection } from './candidates.js';
import type { DecodeContext } from './decode-context.js';

/** One stride's four heads, each one row per grid cell, row-major over (inputHeight/s) × (inputWidth/s). */
export interface YunetHeads {
  stride: number;
  /** [N] class score, already sigmoided. */
  cls: Float32Array;
  /** [N] objectness, already sigmoided. */
  obj: Float32Array;
  /** [N, 4] dx, dy, log w, log h in stride units. */
  bbox: Float32Array;
  /** [N, 10] five landmarks, x and y offsets in stride units. */
  kps: Float32Array;
}

export const YUNET_STRIDES = [8, 16, 32];
export const YUNET_LANDMARKS = 5;

/**
 * YuNet (libfacedetection): anchor-free, one prediction per grid cell and stride.
 * score = sqrt(cls · obj) as OpenCV's FaceDetectorYN does; centre = (cell + d) · s, size = exp(·) · s;
 * landmarks = (cell + offset) · s, carried through NMS and mapped back with the box.
 */
export function decodeYunet(heads: YunetHeads[], ctx: DecodeContext): RawDetection[] {
  const candidates = new CandidateSet();
  for (const { stride, cls, obj, bbox, kps } of heads) {
    const cols = Math.floor(ctx.inputWidth / stride);
    for (let i = 0; i < cls.length; i++) {
      const score = Math.sqrt(Math.min(1, Math.max(0, cls[i])) * Math.min(1, Math.max(0, obj[i])));
      if (!(score >= ctx.threshold)) continue;
      const col = i % cols;
      const row = Math.floor(i / cols);
      const cx = (col + bbox[i * 4]) * stride;
      const cy = (row + bbox[i * 4 + 1]) * stride;
      const w = Math.exp(bbox[i * 4 + 2]) * stride;
      const h = Math.exp(bbox[i * 4 + 3]) * stride;
      const points: number[] = [];
      for (let k = 0; k < YUNET_LANDMARKS; k++) points.push((col + kps[i * 10 + 2 * k]) * stride, (row + kps[i * 10 + 2 * k + 1]) * stride);
      candidates.add(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, score, 0, points);
    }
  }
  return candidates.finish(ctx, false);
}
