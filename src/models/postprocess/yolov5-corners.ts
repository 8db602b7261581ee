import type { InputTransform } from '../../addon/types.js';
import { CandidateSet, type RawDetection } from './candidates.js';

/**
 * YOLOv5 with corner points (HyperLPR plates): rows of cx,cy,w,h,obj, 2·corners coords, class scores,
 * in input pixels. The box, not the corners, is what gets blurred.
 */
export function decodeYolov5Corners(
  output: Float32Array,
  dims: readonly number[],
  corners: number,
  threshold: number,
  transform: InputTransform,
  imageWidth: number,
  imageHeight: number,
): RawDetection[] {
  const [, rows, cols] = dims;
  const classOffset = 5 + corners * 2;
  const numClasses = cols - classOffset;
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
    const cx = output[o], cy = output[o + 1], w = output[o + 2], h = output[o + 3];
    candidates.add(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, score, best);
  }
  return candidates.finish(transform, imageWidth, imageHeight, 0.45, false);
}
