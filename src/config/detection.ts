// The detection stage's quality settings and their one set of defaults; config fills them from
// the environment and the pool hands them whole to every thread.

/** Quality features of the detection stage; set by config (TILING, FACE_TILE_SCALE…), fixed per pool. */
export interface DetectionSettings {
  /**
   * Extra passes on tiles of large images so small faces and plates are not shrunk away. auto: always;
   * fallback: only where the person/vehicle crops cannot stand in for them (no person or vehicle
   * found, or more than maxPersons/maxVehicles); off: never.
   */
  tiling: 'auto' | 'fallback' | 'off';
  /**
   * Largest shrink a pass may apply before tiles are added: a full pass that shrinks the image more gets
   * tiles of at most this many model inputs each (2 → a tile covers 2× the input). For a dynamic face
   * model the input is the one FACE_INPUT_LONG_SIDE gives, so only huge images get tiles.
   */
  tileScale: { faces: number; plates: number };
  /** Dynamic face models (YuNet): the full pass's input long side (multiple of 32; images are never enlarged). */
  faceInputLongSide: number;
  /** Dynamic face models: the square input of each person-head crop (multiple of 32), all heads in one run. */
  faceCropInput: number;
  /** Least overlap of neighbouring tiles, as a share of a tile; objects up to that size lie whole in some tile. */
  tileOverlap: number;
  /** Face passes on the head of each person the object detector found (runs it even when objects are not requested). */
  facesOnPersons: boolean;
  /** Persons below this score give no face pass; most head crops per image. */
  personScore: number;
  maxPersons: number;
  /** Plate passes on the vehicles the object detector found (runs it even when objects are not requested). */
  platesOnVehicles: boolean;
  /**
   * A vehicle gets a plate pass only when the full-frame pass shows its plate (about 1/12 of its width)
   * at fewer model pixels than this; Infinity: every vehicle.
   */
  plateCropBelowPx: number;
  /** Vehicles below this score give no plate pass; most vehicle crops per image. */
  vehicleScore: number;
  maxVehicles: number;
  /** Boxes are grown by this share of their size before blurring (0.15 = 7.5% per side). */
  blurMargin: { face: number; plate: number };
}

export const DEFAULT_DETECTION_SETTINGS: Readonly<DetectionSettings> = Object.freeze({
  tiling: 'auto',
  // YuNet at 1600: tiles only past 2.6 × 1600 px (4160 px long side); YOLOv9-t (416): past 4160 px.
  // Chosen with `npm run eval` (eval/README.md, "Engine v2").
  tileScale: Object.freeze({ faces: 2.6, plates: 10 }),
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
  blurMargin: Object.freeze({ face: 0.15, plate: 0.15 }),
}) as DetectionSettings;


/** The settings before issue 14 (UltraFace + HyperLPR with 6 + 6 tiles per 1080p image): PROFILE=legacy. */
export const LEGACY_DETECTION_SETTINGS: Readonly<DetectionSettings> = Object.freeze({
  ...DEFAULT_DETECTION_SETTINGS,
  // 1080p: 6 face tiles at 2.43× and 6 plate tiles at 2.22× (eval/README.md, "Cost").
  tileScale: Object.freeze({ faces: 2.6, plates: 2.4 }),
  plateCropBelowPx: Infinity,
}) as DetectionSettings;
