import { CandidateSet, type RawDetection } from './candidates.js';
import type { DecodeContext } from './decode-context.js';

/**
 * YOLOX raw head output [1, N, 5 + classes]: grid offsets and log sizes per stride,
 * objectness and class scores already passed through a sigmoid by the export.
 */
export function decodeYolox(
  output: Float32Array,
  dims: readonly number[],
  ctx: DecodeContext,
  options: { strides: readonly number[] },
): RawDetection[] {
  const { inputWidth, inputHeight, threshold } = ctx;
  const [, rows, cols] = dims;
  const numClasses = cols - 5;
  const candidates = new CandidateSet();
  let row = 0;
  for (const stride of options.strides) {
    const gw = Math.floor(inputWidth / stride);
    const gh = Math.floor(inputHeight / stride);
    for (let gy = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++, row++) {
        if (row >= rows) break;
        const o = row * cols;
        const objectness = output[o + 4];
        if (objectness < threshold) continue;
        let best = 0;
        let bestScore = 0;
        for (let c = 0; c < numClasses; c++) {
          const s = output[o + 5 + c];
          if (s > bestScore) {
            bestScore = s;
            best = c;
          }
        }
        const score = objectness * bestScore;
        if (score < threshold) continue;
        const cx = (output[o] + gx) * stride;
        const cy = (output[o + 1] + gy) * stride;
        const w = Math.exp(output[o + 2]) * stride;
        const h = Math.exp(output[o + 3]) * stride;
        candidates.add(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, score, best);
      }
    }
  }
  return candidates.finish(ctx, true);
}
