import type { InputTransform } from '../../addon/types.js';
import { CandidateSet, type RawDetection } from './candidates.js';

/** UltraFace: softmaxed scores [1, N, 2] and boxes [1, N, 4] as x1,y1,x2,y2 normalised to the input. */
export function decodeUltraface(
  scores: Float32Array,
  boxes: Float32Array,
  inputWidth: number,
  inputHeight: number,
  threshold: number,
  transform: InputTransform,
  imageWidth: number,
  imageHeight: number,
  iou = 0.3,
): RawDetection[] {
  const candidates = new CandidateSet();
  const n = scores.length / 2;
  for (let i = 0; i < n; i++) {
    const score = scores[i * 2 + 1];
    if (score < threshold) continue;
    candidates.add(boxes[i * 4] * inputWidth, boxes[i * 4 + 1] * inputHeight, boxes[i * 4 + 2] * inputWidth, boxes[i * 4 + 3] * inputHeight, score, 0);
  }
  return candidates.finish(transform, imageWidth, imageHeight, iou, false);
}
