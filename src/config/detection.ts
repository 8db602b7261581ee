// The detection stage's quality settings: their schema (which variable sets each, what it may be)
// and their one set of defaults; config fills them from the environment and the pool hands them
// whole to every thread.
import { Type, type Static, type TNumber } from '@sinclair/typebox';
import { detectionKinds, kindVariable } from '../kinds.js';
import { OneOf } from '../schema/job.js';

/** FACE_TILE_SCALE, PLATE_TILE_SCALE, …: keyed by slot, for each kind that tiles (src/kinds.ts). */
const tiledKinds = detectionKinds().filter((k) => k.tileScale !== undefined);
const tileScales = Object.fromEntries(tiledKinds.map((k) => [k.slot, Type.Number({ env: kindVariable(k, 'TILE_SCALE'), minimum: 1, maximum: 64 })])) as Record<'faces' | 'plates', TNumber>;
/** FACE_BLUR_MARGIN, PLATE_BLUR_MARGIN, …: keyed by name, for each kind blurred beyond its box. */
const marginKinds = detectionKinds().filter((k) => k.blurMargin !== undefined);
const blurMargins = Object.fromEntries(marginKinds.map((k) => [k.name, Type.Number({ env: kindVariable(k, 'BLUR_MARGIN'), minimum: 0, maximum: 2 })])) as Record<'face' | 'plate', TNumber>;
const share = (description: string) => Type.Number({ minimum: 0, maximum: 1, description });

/** Quality features of the detection stage; set by config (TILING, FACE_TILE_SCALE…), fixed per pool. Fields without `env` are fixed here. */
export const DetectionSettingsSchema = Type.Object({
  tiling: OneOf(['auto', 'fallback', 'off'] as const, {
    env: 'TILING',
    description:
      'Extra passes on tiles of large images so small faces and plates are not shrunk away. auto: always; fallback: only where the person/vehicle crops cannot stand in for them (no person or vehicle found, or more than MAX_PERSONS/MAX_VEHICLES); off: never',
  }),
  tileScale: Type.Object(
    tileScales as typeof tileScales & Record<string, TNumber>,
    {
      description:
        'Largest shrink a pass may apply before tiles are added: a full pass that shrinks the image more gets tiles of at most this many model inputs each (2: a tile covers 2× the input). For a dynamic face model the input is the one FACE_INPUT_LONG_SIDE gives, so only huge images get tiles',
    },
  ),
  faceInputLongSide: Type.Integer({ env: 'FACE_INPUT_LONG_SIDE', minimum: 64, maximum: 8192, multipleOf: 32, description: "Dynamic face models (YuNet): the full pass's input long side (images are never enlarged)" }),
  faceCropInput: Type.Integer({ env: 'FACE_CROP_INPUT', minimum: 32, maximum: 1024, multipleOf: 32, description: 'Dynamic face models: the square input of each person-head crop, all heads in one run' }),
  tileOverlap: share('Least overlap of neighbouring tiles, as a share of a tile; objects up to that size lie whole in some tile'),
  facesOnPersons: Type.Boolean({ env: 'FACES_ON_PERSONS', description: 'Face passes on the head of each person the object detector found (runs it even when objects are not requested)' }),
  personScore: share('Persons below this score give no face pass'),
  maxPersons: Type.Integer({ env: 'MAX_PERSONS', minimum: 0, maximum: 64, description: 'Most head crops per image' }),
  platesOnVehicles: Type.Boolean({ env: 'PLATES_ON_VEHICLES', description: 'Plate passes on the vehicles the object detector found (runs it even when objects are not requested)' }),
  // Infinity is not a JSON number, so "every vehicle" is its own branch; the variable spells it `off`.
  plateCropBelowPx: Type.Union([Type.Number({ minimum: 0, maximum: 10_000 }), Type.Literal(Infinity)], {
    env: 'PLATE_CROP_BELOW_PX',
    expected: 'a number between 0 and 10000 or "off"',
    description: 'A vehicle gets a plate pass only when the full-frame pass shows its plate (about 1/12 of its width) at fewer model pixels than this; off (Infinity): every vehicle',
  }),
  vehicleScore: share('Vehicles below this score give no plate pass'),
  maxVehicles: Type.Integer({ env: 'MAX_VEHICLES', minimum: 0, maximum: 64, description: 'Most vehicle crops per image' }),
  blurMargin: Type.Object(
    blurMargins as typeof blurMargins & Record<string, TNumber>,
    { description: 'Boxes are grown by this share of their size before blurring (0.15 = 7.5% per side)' },
  ),
  plausibility: Type.Object(
    {
      face: Type.Object({
        largeShare: Type.Number({ env: 'FACE_LARGE_SHARE', minimum: 0, maximum: 1, description: 'A face box over this share of the frame is kept only at FACE_LARGE_MIN_SCORE or more' }),
        largeMinScore: Type.Number({ env: 'FACE_LARGE_MIN_SCORE', minimum: 0, maximum: 1, description: 'Least score of a face box over FACE_LARGE_SHARE of the frame (0: keep every one)' }),
      }),
      plate: Type.Object({
        largeShare: Type.Number({ env: 'PLATE_LARGE_SHARE', minimum: 0, maximum: 1, description: 'A plate box over this share of the frame is kept only at PLATE_LARGE_MIN_SCORE or more' }),
        largeMinScore: Type.Number({ env: 'PLATE_LARGE_MIN_SCORE', minimum: 0, maximum: 1, description: 'Least score of a plate box over PLATE_LARGE_SHARE of the frame (0: keep every one)' }),
        minAspect: Type.Number({ env: 'PLATE_MIN_ASPECT', minimum: 0, maximum: 100, description: 'Plate boxes narrower than this (width / height) are dropped' }),
        maxAspect: Type.Number({ env: 'PLATE_MAX_ASPECT', minimum: 0, maximum: 100, description: 'Plate boxes wider than this (width / height) are dropped' }),
      }),
    },
    { description: 'Face and plate boxes with a shape their kind cannot have at their score are dropped before blurring (src/pipeline/plausibility.ts)' },
  ),
});

export type DetectionSettings = Static<typeof DetectionSettingsSchema>;

export const DEFAULT_DETECTION_SETTINGS: Readonly<DetectionSettings> = Object.freeze({
  tiling: 'auto',
  // Each kind's own (src/kinds.ts: YuNet at 1600 tiles past 4160 px, YOLOv9-t at 416 too).
  tileScale: Object.freeze(Object.fromEntries(tiledKinds.map((k) => [k.slot, k.tileScale!]))) as DetectionSettings['tileScale'],
  faceInputLongSide: 1600,
  faceCropInput: 160,
  tileOverlap: 0.15,
  facesOnPersons: true,
  personScore: 0.3,
  maxPersons: 8,
  platesOnVehicles: true,
  vehicleScore: 0.25,
  maxVehicles: 8,
  plateCropBelowPx: 8,
  blurMargin: Object.freeze(Object.fromEntries(marginKinds.map((k) => [k.name, k.blurMargin!]))) as DetectionSettings['blurMargin'],
  // Chosen with `npm run eval` and fixture crops (eval/README.md, "Plausibility"): real faces filling
  // a fifth or more of the frame scored ≥ 0.94, real frame-filling plates ≥ 0.86; labelled plates are 1.18–4.5 wide per high, and
  // boxes under 0.5 were slivers or fragments (eval/README.md lists them).
  plausibility: Object.freeze({ face: Object.freeze({ largeShare: 0.2, largeMinScore: 0.8 }), plate: Object.freeze({ largeShare: 0.3, largeMinScore: 0.6, minAspect: 0.5, maxAspect: 6 }) }),
}) as DetectionSettings;


/** PROFILE=ultraface-tiled: the 320-px UltraFace + HyperLPR pair made up for with tiles (6 + 6 per 1080p image) and every vehicle cropped. */
export const ULTRAFACE_TILED_DETECTION_SETTINGS: Readonly<DetectionSettings> = Object.freeze({
  ...DEFAULT_DETECTION_SETTINGS,
  // 1080p: 6 face tiles at 2.43× and 6 plate tiles at 2.22× (eval/README.md, "Cost").
  tileScale: Object.freeze({ ...DEFAULT_DETECTION_SETTINGS.tileScale, faces: 2.6, plates: 2.4 }),
  plateCropBelowPx: Infinity,
}) as DetectionSettings;

/** PROFILE=light: the same cheap models, one full-frame pass each, no tiles and no person or vehicle crops. */
export const LIGHT_DETECTION_SETTINGS: Readonly<DetectionSettings> = Object.freeze({
  ...ULTRAFACE_TILED_DETECTION_SETTINGS,
  tiling: 'off',
  facesOnPersons: false,
  platesOnVehicles: false,
}) as DetectionSettings;
