import { pixelOps } from '../addon/index.js';
import type { Detector } from '../models/detector.js';
import type { RawDetection } from '../models/postprocess/candidates.js';
import type { RawImage } from '../addon/types.js';
import type { JobOptions } from '../queue/job.js';
import { vehicleRegions } from './plates-on-vehicles.js';
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
  /** Extra passes on tiles of large images so small faces and plates are not shrunk away. */
  tiling: 'auto' | 'off';
  /** Largest downscale a tile may apply, in model inputs: 2 → a tile covers 2× the model input. */
  tileScale: { faces: number; plates: number };
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
  tileScale: Object.freeze({ faces: 1.5, plates: 2 }),
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

async function tiledPass(detector: Detector, image: RawImage, threshold: number, maxScale: number): Promise<RawDetection[]> {
  const { width, height } = detector.manifest.input;
  const found: RawDetection[] = [];
  for (const tile of planTiles(image.width, image.height, width, height, maxScale)) found.push(...(await detector.detect(image, threshold, tile)));
  return found;
}

/**
 * Runs every enabled detector. Per model: one full-image pass, then (tiling auto) finer passes over
 * tiles when the image is much larger than the model input, and (plates) one pass per vehicle crop.
 * Passes are merged with NMS in image coordinates. Each pass type is timed as its own stage.
 */
export async function detectAll(image: RawImage, options: JobOptions, detectors: Detectors, settings: DetectionSettings, timed: Timed): Promise<DetectedSets> {
  const out: DetectedSets = { faces: [], plates: [], objects: [] };
  const wantPlates = options.detect.plates && !!detectors.plates;
  const needObjects = options.detect.objects || (wantPlates && settings.platesOnVehicles);
  if (needObjects && detectors.objects) {
    const objects = detectors.objects;
    // The vehicle crops want low-score vehicles too; the reported objects keep the requested threshold.
    const low = wantPlates && settings.platesOnVehicles ? Math.min(options.thresholds.object, settings.vehicleScore) : options.thresholds.object;
    out.objects = await timed('detect_objects', () => objects.detect(image, low));
  }
  if (options.detect.faces && detectors.faces) {
    const faces = detectors.faces;
    const threshold = options.thresholds.face;
    const found = await timed('detect_faces', () => faces.detect(image, threshold));
    if (settings.tiling === 'auto') found.push(...(await timed('detect_faces_tiles', () => tiledPass(faces, image, threshold, settings.tileScale.faces))));
    out.faces = mergePasses(found, 0.4, false);
  }
  if (wantPlates) {
    const plates = detectors.plates!;
    const threshold = options.thresholds.plate;
    const found = await timed('detect_plates', () => plates.detect(image, threshold));
    if (settings.platesOnVehicles && detectors.objects) {
      const labels = detectors.objects.manifest.classes;
      const regions = vehicleRegions(out.objects, labels, image.width, image.height, { minScore: settings.vehicleScore, max: settings.maxVehicles });
      found.push(
        ...(await timed('detect_plates_vehicles', async () => {
          const all: RawDetection[] = [];
          for (const region of regions) all.push(...(await plates.detect(image, threshold, region)));
          return all;
        })),
      );
    }
    if (settings.tiling === 'auto') found.push(...(await timed('detect_plates_tiles', () => tiledPass(plates, image, threshold, settings.tileScale.plates))));
    out.plates = mergePasses(found, 0.4, false);
  }
  out.objects = options.detect.objects ? out.objects.filter((o) => o.score >= options.thresholds.object) : [];
  return out;
}
