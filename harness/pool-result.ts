import type { ImageTaskResult } from '../src/pool/task.js';

/** What a pool thread hands back for a processed 2×2 image: `image` as the anonymized bytes, one blurred face. */
export function processedResult(image: number[], faceModel: string): ImageTaskResult {
  return {
    ok: true,
    image: new Uint8Array(image).buffer,
    format: 'jpg',
    width: 2,
    height: 2,
    detections: [{ kind: 'face', label: 'face', score: 0.9, box: { x: 0, y: 0, width: 1, height: 1 }, blurred: true }],
    timings: { decode: 1 },
    models: { faces: faceModel },
  };
}
