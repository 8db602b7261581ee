import { CandidateSet, type RawDetection } from './candidates.js';
import type { DecodeContext } from './decode-context.js';

/**
 * MediaPipe BlazeFace anchors (SSD anchor calculator with fixed_anchor_size): one centre per grid
 * cell per anchor, cx,cy normalised. Back-camera 256 model: strides 16 and 32, 2 and 6 anchors per
 * cell → 16·16·2 + 8·8·6 = 896.
 */
export function blazefaceAnchors(inputWidth: number, inputHeight: number, strides: number[], anchorsPerCell: number[]): Float32Array {
  const out: number[] = [];
  strides.forEach((stride, k) => {
    const gw = Math.ceil(inputWidth / stride);
    const gh = Math.ceil(inputHeight / stride);
    for (let y = 0; y < gh; y++) {
      for (let x = 0; x < gw; x++) {
        for (let a = 0; a < anchorsPerCell[k]; a++) out.push((x + 0.5) / gw, (y + 0.5) / gh);
      }
    }
  });
  return Float32Array.from(out);
}

/**
 * BlazeFace heads: per layer, score logits [1, n, 1] and regressors [1, n, 16] (box cx,cy,w,h then
 * 6 keypoints) in input pixels relative to the anchor centre. Layers are concatenated in anchor order.
 */
export function decodeBlazeface(
  logits: Float32Array,
  regressors: Float32Array,
  ctx: DecodeContext,
  options: { anchors: Float32Array },
): RawDetection[] {
  const { inputWidth, inputHeight, threshold } = ctx;
  const { anchors } = options;
  const n = Math.min(logits.length, anchors.length / 2);
  const stride = regressors.length / Math.max(1, logits.length);
  const candidates = new CandidateSet();
  for (let i = 0; i < n; i++) {
    // MediaPipe clips logits to ±100 before the sigmoid.
    const score = 1 / (1 + Math.exp(-Math.max(-100, Math.min(100, logits[i]))));
    if (score < threshold) continue;
    const r = i * stride;
    const cx = regressors[r] + anchors[i * 2] * inputWidth;
    const cy = regressors[r + 1] + anchors[i * 2 + 1] * inputHeight;
    const w = regressors[r + 2];
    const h = regressors[r + 3];
    candidates.add(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, score, 0);
  }
  return candidates.finish(ctx, false);
}
