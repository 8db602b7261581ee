import { CandidateSet, type RawDetection } from './candidates.js';
import type { DecodeContext } from './decode-context.js';

/**
 * YOLOv8 / YOLO11 head [1, 4 + classes, N]: channel-major (transposed against YOLOv5), rows
 * cx,cy,w,h then class scores already through a sigmoid, no objectness.
 */
export function decodeYolov8(
  output: Float32Array,
  dims: readonly number[],
  ctx: DecodeContext,
  options: { normalized?: boolean } = {},
): RawDetection[] {
  const { threshold } = ctx;
  const channels = dims.at(-2) ?? 0;
  const n = dims.at(-1) ?? 0;
  const numClasses = channels - 4;
  const sx = options.normalized ? ctx.inputWidth : 1;
  const sy = options.normalized ? ctx.inputHeight : 1;
  const candidates = new CandidateSet();
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < numClasses; c++) {
      const s = output[(4 + c) * n + i];
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    if (bestScore < threshold) continue;
    const cx = output[i] * sx, cy = output[n + i] * sy, w = output[2 * n + i] * sx, h = output[3 * n + i] * sy;
    candidates.add(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, bestScore, best);
  }
  return candidates.finish(ctx, true);
}
