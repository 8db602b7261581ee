import { pixelOps } from '../addon/index.js';
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
