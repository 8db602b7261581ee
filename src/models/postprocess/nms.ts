import { CandidateSet, type RawDetection } from './candidates.js';
import type { DecodeContext } from './decode-context.js';

/**
 * Models with NMS built in. The last dimension picks the row layout:
 * 6 → x1,y1,x2,y2,score,class ([1, N, 6] or [N, 6], Ultralytics `nms=True`, RT-DETR style);
 * 7 → batch,x1,y1,x2,y2,class,score ([N, 7], YOLOv7 end2end / ONNX NonMaxSuppression gather).
 * Padding rows (score 0) are skipped. The model already ran NMS: ours only drops duplicates
 * (the caller passes a high ctx.iou, 0.9).
 */
export function decodeNms(
  output: Float32Array,
  dims: readonly number[],
  ctx: DecodeContext,
  options: { normalized?: boolean } = {},
): RawDetection[] {
  const { threshold } = ctx;
  const cols = dims.at(-1) ?? 0;
  const rows = cols > 0 ? output.length / cols : 0;
  const sx = options.normalized ? ctx.inputWidth : 1;
  const sy = options.normalized ? ctx.inputHeight : 1;
  const candidates = new CandidateSet();
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const [x1, y1, x2, y2, score, cls] =
      cols === 7
        ? [output[o + 1], output[o + 2], output[o + 3], output[o + 4], output[o + 6], output[o + 5]]
        : [output[o], output[o + 1], output[o + 2], output[o + 3], output[o + 4], output[o + 5]];
    if (!(score >= threshold)) continue;
    candidates.add(x1 * sx, y1 * sy, x2 * sx, y2 * sy, score, Math.max(0, Math.round(cls)));
  }
  return candidates.finish(ctx, true);
}
