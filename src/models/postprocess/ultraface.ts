import { CandidateSet, type RawDetection } from './candidates.js';
import type { DecodeContext } from './decode-context.js';

/** UltraFace: softmaxed scores [1, N, 2] and boxes [1, N, 4] as x1,y1,x2,y2 normalised to the input. */
export function decodeUltraface(
  scores: Float32Array,
  boxes: Float32Array,
  ctx: DecodeContext,
): RawDetection[] {
  const { inputWidth, inputHeight, threshold } = ctx;
  const candidates = new CandidateSet();
  const n = scores.length / 2;
  for (let i = 0; i < n; i++) {
    const score = scores[i * 2 + 1];
    if (score < threshold) continue;
    candidates.add(boxes[i * 4] * inputWidth, boxes[i * 4 + 1] * inputHeight, boxes[i * 4 + 2] * inputWidth, boxes[i * 4 + 3] * inputHeight, score, 0);
  }
  return candidates.finish(ctx, false);
}
