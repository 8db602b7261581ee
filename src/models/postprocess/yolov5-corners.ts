import { CandidateSet, type RawDetection } from './candidates.js';
import type { DecodeContext } from './decode-context.js';

/**
 * YOLOv5 rows [1, N, 5 + 2·corners + classes]: cx,cy,w,h,objectness, corner points, class scores,
 * in input pixels (times inputWidth/inputHeight when normalized). HyperLPR plates carry 4 corners;
 * plain YOLOv5 exports have none. The box, not the corners, is what gets blurred.
 */
export function decodeYolov5Corners(
  output: Float32Array,
  dims: readonly number[],
  ctx: DecodeContext,
  options: { corners: number; classAware?: boolean; normalized?: boolean },
): RawDetection[] {
  const { threshold } = ctx;
  const { corners } = options;
  const rows = dims.at(-2) ?? 0;
  const cols = dims.at(-1) ?? 0;
  const classOffset = 5 + corners * 2;
  const numClasses = cols - classOffset;
  const sx = options.normalized ? ctx.inputWidth : 1;
  const sy = options.normalized ? ctx.inputHeight : 1;
  const candidates = new CandidateSet();
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const objectness = output[o + 4];
    if (objectness < threshold) continue;
    let best = 0;
    let bestScore = numClasses > 0 ? 0 : 1;
    for (let c = 0; c < numClasses; c++) {
      if (output[o + classOffset + c] > bestScore) {
        bestScore = output[o + classOffset + c];
        best = c;
      }
    }
    const score = objectness * bestScore;
    if (score < threshold) continue;
    const cx = output[o] * sx, cy = output[o + 1] * sy, w = output[o + 2] * sx, h = output[o + 3] * sy;
    candidates.add(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, score, best);
  }
  return candidates.finish(ctx, options.classAware ?? false);
}
