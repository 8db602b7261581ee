// Stand-in for phase B's resolution-aware face pass (the pipeline is not changed here): a dynamic-size
// face model runs the whole image at an input size chosen from the image (long side up to `longSide`),
// and crops (person heads) at the manifest's own size, into which they are enlarged.
import type { RawImage } from '../src/addon/types.js';
import type { Detector } from '../src/models/detector.js';
import { inputSizeFor } from '../src/models/input-size.js';
import type { PixelRegion } from '../src/models/input.js';

export function atImageScale(detector: Detector, longSide: number): Detector {
  const dynamic = detector.manifest.input.dynamic;
  if (!dynamic) throw new Error(`--face-long-side needs a model with a dynamic input; ${detector.manifest.name} has a fixed one`);
  const scaled = Object.create(detector) as Detector;
  scaled.detect = (image: RawImage, threshold: number, region?: PixelRegion) =>
    detector.detect(image, threshold, region, region ? {} : { inputSize: inputSizeFor(image.width, image.height, longSide, dynamic.multipleOf) });
  return scaled;
}
