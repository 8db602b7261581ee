// The detection kinds, declared once: the one place the product grows along. The options schema,
// the settings, the model manifests' tasks, the pool's model set, the pipeline's passes, the
// OpenAPI document, the CLI flags, the demo page, bench and eval all read this list; adding a kind
// is one entry here (or one defineKind call loaded before the service, as the kind-registry test
// does) and, where it steers from another kind's boxes, one planner in pipeline/crop-planners.ts.

/** Crop passes on the regions another kind found (heads of persons, vehicles for plates). */
export interface KindCrops {
  /** The slot of the kind whose boxes steer these passes; that detector runs first. */
  from: string;
  /** A planner of pipeline/crop-planners.ts, by name; its setting turns it on or off. */
  planner: string;
}

export interface DetectionKindDefinition {
  /** Plural: `detect=faces`, a model manifest's `task`, the key of a job's `models`. */
  slot: string;
  /** Singular: a detection's `kind`, `thresholds.face`, `face_threshold`, FACE_MODEL, FACE_TILE_SCALE. */
  name: string;
  /** The model setting `<name>Model` (`<NAME>_MODEL`): its default manifest and what it is. */
  model: { default: string; description: string };
  /** The score threshold a request gets when it names none and the model's manifest has none. */
  threshold: { default: number; description: string };
  /** Every detection is blurred (faces, plates); false: only the classes a request names in blur_classes. */
  blurred: boolean;
  /** Detections are labelled with the model's class names (objects), not the kind's name. */
  labelledByClass?: boolean;
  /** Share a box grows by before blurring (`<NAME>_BLUR_MARGIN`); absent: blurred as found, no setting. */
  blurMargin?: number;
  /** Tiles past this shrink of the full pass (`<NAME>_TILE_SCALE`), its passes merged; absent: one pass. */
  tileScale?: number;
  /** Extra passes on regions another kind found, run between the full pass and the tiles. */
  crops?: KindCrops;
}

export type DetectionKindEntry = Readonly<DetectionKindDefinition>;

const BUILT_IN: readonly DetectionKindEntry[] = [
  {
    slot: 'faces',
    name: 'face',
    model: { default: 'yunet-n', description: 'Face detector (manifest name); empty disables' },
    threshold: { default: 0.6, description: 'Minimum face score (default 0.6, FACE_THRESHOLD)' },
    blurred: true,
    blurMargin: 0.15,
    // YuNet at 1600: tiles only past 2.6 × 1600 px (4160 px long side). Chosen with `npm run eval` (eval/README.md, "Engine v2").
    tileScale: 2.6,
    crops: { from: 'objects', planner: 'heads-on-persons' },
  },
  {
    slot: 'plates',
    name: 'plate',
    model: { default: 'yolov9-t-plates', description: 'Plate detector (manifest name); empty disables' },
    threshold: { default: 0.15, description: 'Minimum plate score (default: the plate model manifest threshold, 0.3 for yolov9-t-plates; else 0.15)' },
    blurred: true,
    blurMargin: 0.15,
    // YOLOv9-t (416): tiles past 4160 px.
    tileScale: 10,
    crops: { from: 'objects', planner: 'plates-on-vehicles' },
  },
  {
    slot: 'objects',
    name: 'object',
    model: { default: 'yolox-nano', description: 'COCO object detector (manifest name); empty disables' },
    threshold: { default: 0.35, description: 'Minimum object score (default 0.35, OBJECT_THRESHOLD)' },
    blurred: false,
    labelledByClass: true,
  },
];

const added: DetectionKindEntry[] = [];
let sealed: readonly DetectionKindEntry[] | undefined;

const NAME = /^[a-z][a-z0-9]*$/;

/**
 * Adds a kind after the built-in ones. Only before anything read the list (schemas are built from it
 * when their modules load), so it belongs in a module loaded first, e.g. with `node --import`, which
 * pool threads inherit.
 */
export function defineKind(kind: DetectionKindDefinition): void {
  if (sealed) throw new Error(`defineKind("${kind.slot}") after the kinds were read: load the module that defines it before the service (node --import)`);
  for (const word of [kind.slot, kind.name]) {
    if (!NAME.test(word)) throw new Error(`Expected a lower-case word for a kind's slot and name but received ${JSON.stringify(word)}`);
  }
  const taken = [...BUILT_IN, ...added].find((k) => k.slot === kind.slot || k.name === kind.name || k.slot === kind.name || k.name === kind.slot);
  if (taken) throw new Error(`Kind ${kind.slot}/${kind.name} clashes with kind ${taken.slot}/${taken.name}`);
  added.push(Object.freeze({ ...kind }));
}

/** Every kind, built-in first, in the order options, documents and the pipeline list them. Reading it ends defineKind. */
export function detectionKinds(): readonly DetectionKindEntry[] {
  sealed ??= Object.freeze([...BUILT_IN, ...added]);
  return sealed;
}

/** The kind of a slot (`faces`) or a name (`face`); undefined for neither. */
export function kindOf(slotOrName: string): DetectionKindEntry | undefined {
  return detectionKinds().find((k) => k.slot === slotOrName || k.name === slotOrName);
}

export const kindSlots = (): string[] => detectionKinds().map((k) => k.slot);
export const kindNames = (): string[] => detectionKinds().map((k) => k.name);

/** The Config key of a kind's model setting: faceModel. */
export const modelSettingKey = (kind: DetectionKindEntry): string => `${kind.name}Model`;
/** The variable of a kind-scoped setting: FACE_MODEL, FACE_TILE_SCALE. */
export const kindVariable = (kind: DetectionKindEntry, setting: 'MODEL' | 'TILE_SCALE' | 'BLUR_MARGIN'): string => `${kind.name.toUpperCase()}_${setting}`;
/** The query parameter and CLI flag of a kind's threshold: face_threshold, --face-threshold. */
export const thresholdParam = (kind: DetectionKindEntry): string => `${kind.name}_threshold`;
export const thresholdFlag = (kind: DetectionKindEntry): string => `--${kind.name}-threshold`;
