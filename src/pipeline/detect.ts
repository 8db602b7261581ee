import { type ImagePyramid, pixelOps } from '../addon/index.js';
import { inputSizeFor, type InputSize } from '../models/input-size.js';
import type { Detector } from '../models/detector.js';
import type { RawDetection } from '../models/postprocess/candidates.js';
import type { RawImage } from '../addon/types.js';
import type { DetectionSettings } from '../config/detection.js';
import type { JobOptions } from '../job.js';
import { headRegions } from './faces-on-persons.js';
import { vehicleRegions } from './plates-on-vehicles.js';
import type { PixelRegion } from '../models/input.js';
import { planTiles } from './tiling.js';

export interface Detectors {
  faces?: Detector;
  plates?: Detector;
  objects?: Detector;
}

export type Timed = <T>(stage: string, work: () => Promise<T> | T) => Promise<T>;

export interface DetectedSets {
  faces: RawDetection[];
  plates: RawDetection[];
  objects: RawDetection[];
}

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

/** Faces need a pass on the head of a person when the full pass shows the face at fewer model pixels than this. */
const HEAD_ENOUGH_PX = 20;

/** The input size of a face pass over a region: dynamic models at FACE_INPUT_LONG_SIDE (never enlarged), fixed ones at their own. */
function faceInputFor(detector: Detector, width: number, height: number, settings: DetectionSettings): InputSize {
  const dynamic = detector.manifest.input.dynamic;
  if (!dynamic) return { width: detector.manifest.input.width, height: detector.manifest.input.height };
  return inputSizeFor(width, height, settings.faceInputLongSide, dynamic.multipleOf);
}

/** How far a pass at `input` shrinks a region of width × height (letterboxed). */
const shrinkOf = (width: number, height: number, input: InputSize) => Math.max(1, Math.max(width / input.width, height / input.height));

/**
 * Tiles for a model whose full pass shrinks the image by more than `maxScale`: each tile is at most
 * maxScale × the pass's input, so nothing is shrunk more than that. Empty below the limit (most images).
 */
function tilesFor(image: RawImage, input: InputSize, maxScale: number, settings: DetectionSettings): PixelRegion[] {
  if (settings.tiling === 'off') return [];
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

/**
 * Runs every enabled detector on one decoded image, all passes reading one anti-aliasing pyramid
 * (built here, levels on first use) through the fused region → tensor pass. Passes are planned from
 * the image's size, not blanket tiles:
 * - objects: one pass (its persons and vehicles also steer the crops below);
 * - faces: one pass at a scale chosen from the image (a dynamic model such as YuNet at
 *   FACE_INPUT_LONG_SIDE; a fixed one at its input), one pass per person whose face that pass shows
 *   too small (head crops at FACE_CROP_INPUT, batched into one run where the model allows), and tiles
 *   only where the full pass shrinks more than FACE_TILE_SCALE (huge images; every 1080p image for a
 *   320-px model such as UltraFace);
 * - plates: one full-frame pass, one per vehicle whose plate that pass shows under PLATE_CROP_BELOW_PX
 *   (upscaled: distant plates), tiles beyond PLATE_TILE_SCALE.
 * Passes are merged with NMS in image coordinates; each pass type is timed as its own stage.
 */
export async function detectAll(image: RawImage, options: JobOptions, detectors: Detectors, settings: DetectionSettings, timed: Timed): Promise<DetectedSets> {
  const out: DetectedSets = { faces: [], plates: [], objects: [] };
  const pyramid = pixelOps.buildPyramid(image);
  const wantFaces = options.detect.faces && !!detectors.faces;
  const wantPlates = options.detect.plates && !!detectors.plates;
  const vehiclesPass = wantPlates && settings.platesOnVehicles && !!detectors.objects;
  const personsPass = wantFaces && settings.facesOnPersons && !!detectors.objects;
  if ((options.detect.objects || vehiclesPass || personsPass) && detectors.objects) {
    const objects = detectors.objects;
    // The crops want low-score vehicles and persons too; the reported objects keep the requested threshold.
    let low = options.thresholds.object;
    if (vehiclesPass) low = Math.min(low, settings.vehicleScore);
    if (personsPass) low = Math.min(low, settings.personScore);
    out.objects = await timed('detect_objects', () => objects.detect(pyramid, low));
  }
  const labels = detectors.objects?.manifest.classes ?? [];
  if (wantFaces) {
    const faces = detectors.faces!;
    const threshold = options.thresholds.face;
    const dynamic = faces.manifest.input.dynamic;
    const fullInput = faceInputFor(faces, image.width, image.height, settings);
    const found = await timed('detect_faces', () => faces.detect(pyramid, threshold, undefined, { inputSize: fullInput }));
    let tiles = tilesFor(image, fullInput, settings.tileScale.faces, settings);
    if (personsPass) {
      // Heads are cropped at the crop input (dynamic models) or the model's own size, and only where the
      // finest pass over them (tiles when there are, else the full pass) shows the face too small.
      const crop = dynamic ? { width: settings.faceCropInput, height: settings.faceCropInput } : fullInput;
      const seenAt = settings.tiling === 'auto' && tiles.length > 0 ? shrinkOf(tiles[0].width, tiles[0].height, fullInput) : shrinkOf(image.width, image.height, fullInput);
      const heads = headRegions(out.objects, labels.indexOf('person'), image.width, image.height, { minScore: settings.personScore, max: settings.maxPersons, modelWidth: crop.width, modelHeight: crop.height, fullScale: seenAt, enough: HEAD_ENOUGH_PX });
      const persons = out.objects.filter((o) => labels[o.classId] === 'person' && o.score >= settings.personScore).length;
      found.push(...(await timed('detect_faces_persons', async () => (await faces.detectBatch(pyramid, threshold, heads.regions, dynamic ? { inputSize: crop } : {})).flat())));
      if (settings.tiling === 'fallback' && persons > 0 && heads.skipped === 0) tiles = [];
    }
    if (tiles.length > 0) {
      const tileInput = (r: PixelRegion) => faceInputFor(faces, r.width, r.height, settings);
      found.push(...(await timed('detect_faces_tiles', () => regionPasses(faces, pyramid, threshold, tiles, dynamic ? tileInput : undefined))));
    }
    out.faces = mergePasses(found, 0.4, false);
  }
  if (wantPlates) {
    const plates = detectors.plates!;
    const threshold = options.thresholds.plate;
    const { width: mw, height: mh } = plates.manifest.input;
    const found = await timed('detect_plates', () => plates.detect(pyramid, threshold));
    let tiles = tilesFor(image, { width: mw, height: mh }, settings.tileScale.plates, settings);
    if (vehiclesPass) {
      const fullScale = shrinkOf(image.width, image.height, { width: mw, height: mh });
      const all = vehicleRegions(out.objects, labels, image.width, image.height, { minScore: settings.vehicleScore, max: Infinity, fullScale, enough: settings.plateCropBelowPx });
      const regions = all.slice(0, settings.maxVehicles);
      found.push(...(await timed('detect_plates_vehicles', () => regionPasses(plates, pyramid, threshold, regions))));
      if (settings.tiling === 'fallback' && all.length > 0 && all.length <= settings.maxVehicles) tiles = [];
    }
    if (tiles.length > 0) found.push(...(await timed('detect_plates_tiles', () => regionPasses(plates, pyramid, threshold, tiles))));
    out.plates = mergePasses(found, 0.4, false);
  }
  out.objects = options.detect.objects ? out.objects.filter((o) => o.score >= options.thresholds.object) : [];
  return out;
}
