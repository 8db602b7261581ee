import { CandidateSet, type RawDetection } from './candidates.js';
import type { DecodeContext } from './decode-context.js';

export interface RetinafacePriors {
  strides: number[];
  minSizes: number[][];
  variances: [number, number];
}

/** Pytorch_Retinaface defaults (mobilenet0.25 / resnet50 exports). */
export const RETINAFACE_DEFAULTS: RetinafacePriors = { strides: [8, 16, 32], minSizes: [[16, 32], [64, 128], [256, 512]], variances: [0.1, 0.2] };

/** SSD priors cx,cy,w,h normalised to the input, in the order the head emits them. */
export function retinafacePriors(inputWidth: number, inputHeight: number, p: RetinafacePriors): Float32Array {
  const out: number[] = [];
  p.strides.forEach((stride, k) => {
    const gh = Math.ceil(inputHeight / stride);
    const gw = Math.ceil(inputWidth / stride);
    for (let y = 0; y < gh; y++) {
      for (let x = 0; x < gw; x++) {
        for (const size of p.minSizes[k]) out.push(((x + 0.5) * stride) / inputWidth, ((y + 0.5) * stride) / inputHeight, size / inputWidth, size / inputHeight);
      }
    }
  });
  return Float32Array.from(out);
}

/** RetinaFace raw head: loc [1, N, 4] offsets against the priors, conf [1, N, 2] softmaxed (background, face). */
export function decodeRetinaface(
  loc: Float32Array,
  conf: Float32Array,
  ctx: DecodeContext,
  options: { priors: Float32Array; variances: readonly [number, number] },
): RawDetection[] {
  const { inputWidth, inputHeight, threshold } = ctx;
  const { priors, variances } = options;
  const n = Math.min(priors.length / 4, loc.length / 4, conf.length / 2);
  const candidates = new CandidateSet();
  for (let i = 0; i < n; i++) {
    const score = conf[i * 2 + 1];
    if (score < threshold) continue;
    const [pcx, pcy, pw, ph] = [priors[i * 4], priors[i * 4 + 1], priors[i * 4 + 2], priors[i * 4 + 3]];
    const cx = pcx + loc[i * 4] * variances[0] * pw;
    const cy = pcy + loc[i * 4 + 1] * variances[0] * ph;
    const w = pw * Math.exp(loc[i * 4 + 2] * variances[1]);
    const h = ph * Math.exp(loc[i * 4 + 3] * variances[1]);
    candidates.add((cx - w / 2) * inputWidth, (cy - h / 2) * inputHeight, (cx + w / 2) * inputWidth, (cy + h / 2) * inputHeight, score, 0);
  }
  return candidates.finish(ctx, false);
}
