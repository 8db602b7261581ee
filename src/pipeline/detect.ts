import { type ImagePyramid, pixelOps } from '../addon/index.js';
import { inputSizeFor, type InputSize } from '../models/input-size.js';
import type { Detector } from '../models/detector.js';
import type { Detectors } from '../models/load-detectors.js';
import type { RawDetection } from '../models/postprocess/candidates.js';
import type { RawImage } from '../addon/types.js';
import type { DetectionSettings } from '../config/detection.js';
import type { JobOptions } from '../job.js';
import { detectionKinds, type DetectionKindEntry } from '../kinds.js';
import { CROP_PLANNERS, shrinkOf } from './crop-planners.js';
import type { PixelRegion } from '../models/input.js';
import { planTiles } from './tiling.js';
import type { Timed } from './stage-timer.js';

export type { Detectors } from '../models/load-detectors.js';

export type { Timed } from './stage-timer.js';

/** The model name of each kind this request asked for and this thread has a detector for, by slot (the job record's `models`). */
export function modelsInUse(detectors: Detectors, options: JobOptions): Record<string, string> {
  const models: Record<string, string> = {};
  for (const kind of detectionKinds()) {
    const detector = detectors[kind.slot];
    if (detector && options.detect[kind.slot]) models[kind.slot] = detector.manifest.name;
  }
  return models;
}

/** Each requested kind's detections, by slot; a kind not asked for (or without a detector) has none. */
export type DetectedSets = Record<string, RawDetection[]>;

/** Drops duplicates from overlapping passes: IoU NMS, then boxes lying mostly inside a better one (tile-edge fragments). */
export function mergePasses(found: RawDetection[], iou: number, classAware: boolean): RawDetection[] {
  if (found.length <= 1) return found;
  const boxes = new Float32Array(found.length * 4);
  found.forEach((d, i) => boxes.set([d.x1, d.y1, d.x2, d.y2], i * 4));
  const keep = pixelOps.nms(boxes, Float32Array.from(found, (d) => d.score), iou, classAware ? Int32Array.from(found, (d) => d.classId) : undefined);
  const kept = Array.from(keep, (i) => found[i]).sort((a, b) => b.score - a.score);
  const out: RawDetection[] = [];
  for (const d of kept) {
    const area = (d.x2 - d.x1) * (d.y2 - d.y1);
    const inside = out.some((k) => {
      if (classAware && k.classId !== d.classId) return false;
      const w = Math.min(d.x2, k.x2) - Math.max(d.x1, k.x1);
      const h = Math.min(d.y2, k.y2) - Math.max(d.y1, k.y1);
      return w > 0 && h > 0 && (w * h) / area > 0.8;
    });
    if (!inside) out.push(d);
  }
  return out;
}

/** The input size of a full or tile pass over a region: dynamic models at FACE_INPUT_LONG_SIDE (never enlarged), fixed ones at their own. */
function inputFor(detector: Detector, width: number, height: number, settings: DetectionSettings): InputSize {
  const dynamic = detector.manifest.input.dynamic;
  if (!dynamic) return { width: detector.manifest.input.width, height: detector.manifest.input.height };
  return inputSizeFor(width, height, settings.faceInputLongSide, dynamic.multipleOf);
}

/**
 * Tiles for a model whose full pass shrinks the image by more than `maxScale`: each tile is at most
 * maxScale × the pass's input, so nothing is shrunk more than that. Empty below the limit (most images).
 */
function tilesFor(image: RawImage, input: InputSize, maxScale: number | undefined, settings: DetectionSettings): PixelRegion[] {
  if (settings.tiling === 'off' || maxScale === undefined) return [];
  return planTiles(image.width, image.height, input.width, input.height, maxScale, settings.tileOverlap);
}

/** One list of detections per region, flattened; a batching model gets all regions in one run. */
async function regionPasses(detector: Detector, pyramid: ImagePyramid, threshold: number, regions: PixelRegion[], inputSize?: (r: PixelRegion) => InputSize): Promise<RawDetection[]> {
  if (regions.length === 0) return [];
  if (!inputSize) return (await detector.detectBatch(pyramid, threshold, regions)).flat();
  const found: RawDetection[] = [];
  for (const region of regions) found.push(...(await detector.detect(pyramid, threshold, region, { inputSize: inputSize(region) })));
  return found;
}

/** The crop planner a kind runs here, if its setting is on and the kind it steers from has a detector. */
function steeringOf(kind: DetectionKindEntry, detectors: Detectors, settings: DetectionSettings) {
  if (!kind.crops || !detectors[kind.crops.from]) return undefined;
  const planner = CROP_PLANNERS[kind.crops.planner];
  if (!planner) throw new Error(`Kind ${kind.slot} names crop planner "${kind.crops.planner}", which pipeline/crop-planners.ts does not have`);
  return planner.enabled(settings) ? { from: kind.crops.from, planner } : undefined;
}

/**
 * Runs every requested kind's detector on one decoded image, in the registry's order (src/kinds.ts)
 * except that a kind whose boxes steer another's crops runs first. All passes read one anti-aliasing
 * pyramid (built here, levels on first use) through the fused region → tensor pass. Per kind:
 * - one full pass at a scale chosen from the image (a dynamic model such as YuNet at
 *   FACE_INPUT_LONG_SIDE; a fixed one at its input); a steering kind (objects) runs at the lowest
 *   score its planners want and reports only its requested threshold;
 * - its crop planner's passes (crop-planners.ts: heads of persons at FACE_CROP_INPUT, batched where
 *   the model allows; vehicles whose plate the full pass shows under PLATE_CROP_BELOW_PX);
 * - tiles only where the full pass shrinks more than the kind's tile scale (FACE_TILE_SCALE…).
 * A tiling kind's passes are merged with NMS in image coordinates; each pass is timed as its own stage.
 */
export async function detectAll(image: RawImage, options: JobOptions, detectors: Detectors, settings: DetectionSettings, timed: Timed): Promise<DetectedSets> {
  const out: DetectedSets = {};
  const pyramid = pixelOps.buildPyramid(image);
  const wanted = detectionKinds().filter((k) => options.detect[k.slot] && detectors[k.slot]);
  // The least score each steering kind must be run at, for the crops of the kinds it steers.
  const steeringScore = new Map<string, number>();
  for (const kind of wanted) {
    const steering = steeringOf(kind, detectors, settings);
    if (steering) steeringScore.set(steering.from, Math.min(steeringScore.get(steering.from) ?? Infinity, steering.planner.minScore(settings)));
  }
  const steeringKinds = detectionKinds().filter((k) => steeringScore.has(k.slot));
  // Kinds that can steer (objects) go first whether or not they steer this time, so stages keep one order.
  const canSteer = new Set(detectionKinds().flatMap((k) => (k.crops ? [k.crops.from] : [])));
  const all = [...new Set([...steeringKinds, ...wanted])].sort((a, b) => Number(canSteer.has(b.slot)) - Number(canSteer.has(a.slot)));
  for (const kind of all) {
    const detector = detectors[kind.slot]!;
    // Steering boxes want low-score persons and vehicles too; the reported ones keep the requested threshold.
    // A job queued before its kind was added has no threshold for it: the kind's default.
    const asked = options.thresholds[kind.name] ?? kind.threshold.default;
    const threshold = Math.min(asked, steeringScore.get(kind.slot) ?? Infinity);
    const dynamic = detector.manifest.input.dynamic;
    const fullInput = inputFor(detector, image.width, image.height, settings);
    const found = await timed(`detect_${kind.slot}`, () => detector.detect(pyramid, threshold, undefined, { inputSize: fullInput }));
    let tiles = tilesFor(image, fullInput, settings.tileScale[kind.slot], settings);
    const steering = steeringOf(kind, detectors, settings);
    if (steering) {
      const source = out[steering.from] ?? [];
      const plan = steering.planner.plan({ image, source, labels: detectors[steering.from]!.manifest.classes, detector, fullInput, tiles, settings });
      found.push(...(await timed(`detect_${kind.slot}_${steering.planner.stage}`, async () => (await detector.detectBatch(pyramid, threshold, plan.regions, plan.inputSize ? { inputSize: plan.inputSize } : {})).flat())));
      if (plan.replacesTiles) tiles = [];
    }
    if (tiles.length > 0) {
      const tileInput = (r: PixelRegion) => inputFor(detector, r.width, r.height, settings);
      found.push(...(await timed(`detect_${kind.slot}_tiles`, () => regionPasses(detector, pyramid, threshold, tiles, dynamic ? tileInput : undefined))));
    }
    out[kind.slot] = kind.tileScale !== undefined ? mergePasses(found, 0.4, false) : found;
  }
  // Steering kinds ran at the lowest score their planners wanted: report only what was asked for, at its threshold.
  for (const kind of steeringKinds) {
    out[kind.slot] = options.detect[kind.slot] ? out[kind.slot].filter((d) => d.score >= (options.thresholds[kind.name] ?? kind.threshold.default)) : [];
  }
  return out;
}
