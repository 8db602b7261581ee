import { pixelOps } from '../addon/index.js';
import type { Detector } from '../models/detector.js';
import type { RawDetection } from '../models/postprocess/candidates.js';
import type { RawImage } from '../addon/types.js';
import type { JobOptions } from '../job.js';
import { headRegions } from './faces-on-persons.js';
import { vehicleRegions } from './plates-on-vehicles.js';
import type { PixelRegion } from './preprocess.js';
import { planTiles } from './tiling.js';

export interface Detectors {
  faces?: Detector;
  plates?: Detector;
  objects?: Detector;
  /** Quality settings the pool thread was set up with; processImage falls back to the defaults. */
  settings?: DetectionSettings;
}

/** Quality features of the detection stage; fixed per pool (see WorkerSetup). */
export interface DetectionSettings {
  /**
   * Extra passes on tiles of large images so small faces and plates are not shrunk away. auto: always;
   * fallback: only where the person/vehicle crops cannot stand in for them (no person or vehicle
   * found, or more than maxPersons/maxVehicles); off: never.
   */
  tiling: 'auto' | 'fallback' | 'off';
  /** Largest downscale a tile may apply, in model inputs: 2 → a tile covers 2× the model input. */
  tileScale: { faces: number; plates: number };
  /** Least overlap of neighbouring tiles, as a share of a tile; objects up to that size lie whole in some tile. */
  tileOverlap: number;
  /** Face passes on the head of each person the object detector found (runs it even when objects are not requested). */
  facesOnPersons: boolean;
  /** Persons below this score give no face pass; most head crops per image. */
  personScore: number;
  maxPersons: number;
  /** Plate passes on the vehicles the object detector found (runs it even when objects are not requested). */
  platesOnVehicles: boolean;
  /** Vehicles below this score give no plate pass; most vehicle crops per image. */
  vehicleScore: number;
  maxVehicles: number;
  /** Boxes are grown by this share of their size before blurring (0.15 = 7.5% per side). */
  blurMargin: { face: number; plate: number };
}

export const DEFAULT_DETECTION_SETTINGS: Readonly<DetectionSettings> = Object.freeze({
  tiling: 'auto',
  // 1080p: 6 face tiles at 2.43× and 6 plate tiles at 2.22× (eval/README.md, "Cost").
  tileScale: Object.freeze({ faces: 2.6, plates: 2.4 }),
  tileOverlap: 0.15,
  facesOnPersons: true,
  personScore: 0.3,
  maxPersons: 8,
  platesOnVehicles: true,
  vehicleScore: 0.25,
  maxVehicles: 8,
  blurMargin: Object.freeze({ face: 0.15, plate: 0.15 }),
}) as DetectionSettings;

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

/** One pass per region, detections in full-image pixels. */
async function regionPasses(detector: Detector, image: RawImage, threshold: number, regions: PixelRegion[]): Promise<RawDetection[]> {
  const found: RawDetection[] = [];
  for (const region of regions) found.push(...(await detector.detect(image, threshold, region)));
  return found;
}

const tilesFor = (detector: Detector, image: RawImage, settings: DetectionSettings, maxScale: number) =>
  planTiles(image.width, image.height, detector.manifest.input.width, detector.manifest.input.height, maxScale, settings.tileOverlap);

/**
 * Runs every enabled detector. Per model: one full-image pass; (faces) one pass per person's head
 * and (plates) one per vehicle, each crop upscaled into the model input; then (tiling) finer passes
 * over tiles when the image is much larger than the model input. Passes are merged with NMS in
 * image coordinates. Each pass type is timed as its own stage.
 */
export async function detectAll(image: RawImage, options: JobOptions, detectors: Detectors, settings: DetectionSettings, timed: Timed): Promise<DetectedSets> {
  const out: DetectedSets = { faces: [], plates: [], objects: [] };
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
    out.objects = await timed('detect_objects', () => objects.detect(image, low));
  }
  const labels = detectors.objects?.manifest.classes ?? [];
  if (wantFaces) {
    const faces = detectors.faces!;
    const threshold = options.thresholds.face;
    const { width: mw, height: mh } = faces.manifest.input;
    const found = await timed('detect_faces', () => faces.detect(image, threshold));
    let tiles = settings.tiling === 'off' ? [] : tilesFor(faces, image, settings, settings.tileScale.faces);
    if (personsPass) {
      // With tiles on, a head only needs a crop when the tiles still shrink its face too much.
      const fullScale = Math.max(image.width / mw, image.height / mh);
      const seenAt = settings.tiling === 'auto' && tiles.length > 0 ? tiles[0].width / mw : fullScale;
      const heads = headRegions(out.objects, labels.indexOf('person'), image.width, image.height, { minScore: settings.personScore, max: settings.maxPersons, modelWidth: mw, modelHeight: mh, fullScale: seenAt });
      const persons = out.objects.filter((o) => labels[o.classId] === 'person' && o.score >= settings.personScore).length;
      found.push(...(await timed('detect_faces_persons', () => regionPasses(faces, image, threshold, heads.regions))));
      if (settings.tiling === 'fallback' && persons > 0 && heads.skipped === 0) tiles = [];
    }
    if (settings.tiling !== 'off') found.push(...(await timed('detect_faces_tiles', () => regionPasses(faces, image, threshold, tiles))));
    out.faces = mergePasses(found, 0.4, false);
  }
  if (wantPlates) {
    const plates = detectors.plates!;
    const threshold = options.thresholds.plate;
    const found = await timed('detect_plates', () => plates.detect(image, threshold));
    let tiles = settings.tiling === 'off' ? [] : tilesFor(plates, image, settings, settings.tileScale.plates);
    if (vehiclesPass) {
      const all = vehicleRegions(out.objects, labels, image.width, image.height, { minScore: settings.vehicleScore, max: Infinity });
      const regions = all.slice(0, settings.maxVehicles);
      found.push(...(await timed('detect_plates_vehicles', () => regionPasses(plates, image, threshold, regions))));
      if (settings.tiling === 'fallback' && all.length > 0 && all.length <= settings.maxVehicles) tiles = [];
    }
    if (settings.tiling !== 'off') found.push(...(await timed('detect_plates_tiles', () => regionPasses(plates, image, threshold, tiles))));
    out.plates = mergePasses(found, 0.4, false);
  }
  out.objects = options.detect.objects ? out.objects.filter((o) => o.score >= options.thresholds.object) : [];
  return out;
}
