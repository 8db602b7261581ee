// The crop passes a kind can declare in the registry (src/kinds.ts `crops.planner`): each plans
// the regions of one image where another kind's boxes (persons, vehicles) say small ones hide.
// detect.ts runs them between a kind's full pass and its tiles. A new steering rule is one entry here.
import type { DetectionSettings } from '../config/detection.js';
import type { Detector } from '../models/detector.js';
import type { InputSize } from '../models/input-size.js';
import type { PixelRegion } from '../models/input.js';
import type { RawDetection } from '../models/postprocess/candidates.js';
import type { RawImage } from '../addon/types.js';
import { headRegions } from './faces-on-persons.js';
import { vehicleRegions } from './plates-on-vehicles.js';

/** Faces need a pass on the head of a person when the full pass shows the face at fewer model pixels than this. */
const HEAD_ENOUGH_PX = 20;

/** How far a pass at `input` shrinks a region of width × height (letterboxed). */
export const shrinkOf = (width: number, height: number, input: InputSize) => Math.max(1, Math.max(width / input.width, height / input.height));

export interface CropContext {
  image: RawImage;
  /** The steering kind's boxes (at the planner's minScore or above) and its model's class names. */
  source: RawDetection[];
  labels: string[];
  detector: Detector;
  fullInput: InputSize;
  tiles: PixelRegion[];
  settings: DetectionSettings;
}

export interface CropPlan {
  regions: PixelRegion[];
  /** The input every crop runs at (dynamic models); absent: the model's own. */
  inputSize?: InputSize;
  /** The crops stand in for the tiles (TILING=fallback and every steering box got its crop). */
  replacesTiles: boolean;
}

export interface CropPlanner {
  /** The timing stage's suffix: detect_faces_persons. */
  stage: string;
  enabled(settings: DetectionSettings): boolean;
  /** The steering detector runs at this score or lower so weak persons/vehicles still steer. */
  minScore(settings: DetectionSettings): number;
  plan(ctx: CropContext): CropPlan;
}

export const CROP_PLANNERS: Readonly<Record<string, CropPlanner>> = {
  // Heads are cropped at the crop input (dynamic models) or the model's own size, and only where the
  // finest pass over them (tiles when there are, else the full pass) shows the face too small.
  'heads-on-persons': {
    stage: 'persons',
    enabled: (s) => s.facesOnPersons,
    minScore: (s) => s.personScore,
    plan({ image, source, labels, detector, fullInput, tiles, settings }) {
      const dynamic = detector.manifest.input.dynamic;
      const crop = dynamic ? { width: settings.faceCropInput, height: settings.faceCropInput } : fullInput;
      const seenAt = settings.tiling === 'auto' && tiles.length > 0 ? shrinkOf(tiles[0].width, tiles[0].height, fullInput) : shrinkOf(image.width, image.height, fullInput);
      const heads = headRegions(source, labels.indexOf('person'), image.width, image.height, { minScore: settings.personScore, max: settings.maxPersons, modelWidth: crop.width, modelHeight: crop.height, fullScale: seenAt, enough: HEAD_ENOUGH_PX });
      const persons = source.filter((o) => labels[o.classId] === 'person' && o.score >= settings.personScore).length;
      return { regions: heads.regions, ...(dynamic ? { inputSize: crop } : {}), replacesTiles: settings.tiling === 'fallback' && persons > 0 && heads.skipped === 0 };
    },
  },
  // A vehicle gets a pass only where the full-frame pass shows its plate under PLATE_CROP_BELOW_PX (distant plates, upscaled).
  'plates-on-vehicles': {
    stage: 'vehicles',
    enabled: (s) => s.platesOnVehicles,
    minScore: (s) => s.vehicleScore,
    plan({ image, source, labels, detector, settings }) {
      const { width, height } = detector.manifest.input;
      const fullScale = shrinkOf(image.width, image.height, { width, height });
      const all = vehicleRegions(source, labels, image.width, image.height, { minScore: settings.vehicleScore, max: Infinity, fullScale, enough: settings.plateCropBelowPx });
      return { regions: all.slice(0, settings.maxVehicles), replacesTiles: settings.tiling === 'fallback' && all.length > 0 && all.length <= settings.maxVehicles };
    },
  },
};
