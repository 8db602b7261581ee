// A model manifest (models/*.json, MODEL_MANIFEST_DIR) as a TypeBox schema: the types below are
// derived from it and manifest.ts validates every file through it. Each node's `expected` is the
// <what> of "Invalid model manifest <file>: <field> must be <what>".
import { Type, type Static } from '@sinclair/typebox';
import { kindSlots } from '../kinds.js';
import { OneOf } from '../schema/job.js';

/** A two- or three-word enum whose message reads "nchw or nhwc". */
const either = <const T extends readonly string[]>(values: T) => ({ ...OneOf(values), expected: values.join(' or ') });
const nonEmpty = (expected: string) => Type.String({ minLength: 1, expected });
const positiveInts = (expected: string) => Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, expected });

export const OUTPUT_KINDS = ['yolox', 'ultraface', 'yolov5-corners', 'yolov5', 'yolov8', 'nms', 'retinaface', 'blazeface', 'yunet'] as const;

export const SourceSchema = Type.Object(
  {
    url: nonEmpty('the URL the file is downloaded from'),
    repository: Type.Optional(Type.String({ expected: 'a string (owner/name)' })),
    path: Type.Optional(Type.String({ expected: 'a string (the path in the repository)' })),
    commit: Type.Optional(Type.String({ expected: 'a string (the commit the URL pins)' })),
    archive: Type.Optional(
      Type.Object(
        {
          format: Type.Literal('tgz', { expected: 'tgz' }),
          // No `..` segment: the file taken out must lie inside the archive.
          path: Type.String({ pattern: '^(?!(.*/)?\\.\\.(/|$)).+$', expected: 'a relative path inside the archive' }),
        },
        { expected: 'an object with format and path', description: 'url is a .tgz (npm tarball) and the file is this entry of it; sha256 is the extracted file\'s' },
      ),
    ),
  },
  { expected: 'an object with the download url' },
);

/** The model's input tensor: how the decoded image is resized and normalised into it (addon TensorSpec). */
export const InputSchema = Type.Object(
  {
    name: Type.String({ expected: 'the input tensor name' }),
    width: Type.Integer({ minimum: 8, maximum: 4096, expected: 'an integer 8..4096' }),
    height: Type.Integer({ minimum: 8, maximum: 4096, expected: 'an integer 8..4096' }),
    dynamic: Type.Optional(
      Type.Object(
        { multipleOf: Type.Integer({ minimum: 1, maximum: 256, expected: 'an integer 1..256' }) },
        { expected: 'an object like {"multipleOf": 32}', description: 'Set when the model takes any size whose width and height are multiples of multipleOf (YuNet: 32); width and height are then the size used when a caller asks for none' },
      ),
    ),
    layout: Type.Optional({ ...either(['nchw', 'nhwc'] as const), description: 'nchw: [1, 3, H, W]; nhwc: [1, H, W, 3] (TensorFlow/MediaPipe exports); default nchw' }),
    channelOrder: either(['rgb', 'bgr'] as const),
    resize: { ...either(['letterbox', 'stretch'] as const), description: 'letterbox keeps aspect ratio and pads; stretch ignores it' },
    align: Type.Optional({ ...either(['top-left', 'center'] as const), description: 'Where a letterboxed image sits in the model input; default top-left' }),
    padValue: Type.Optional(Type.Number({ expected: 'a number' })),
    // value = (pixel - mean) / std, per channel in channelOrder.
    mean: Type.Tuple([Type.Number(), Type.Number(), Type.Number()], { expected: 'three numbers' }),
    std: Type.Tuple([Type.Number(), Type.Number(), Type.Number()], { expected: 'three numbers' }),
  },
  { expected: 'an object' },
);

/**
 * How to read the model's outputs. Box coordinates are in model-input pixels unless `normalized`.
 * - yolox: [1, N, 5+nc] raw grid head (strides).
 * - yolov5: [1, N, 5+nc] rows cx,cy,w,h,objectness,class scores.
 * - yolov5-corners: like yolov5 with 2·corners point coordinates before the class scores.
 * - yolov8: [1, 4+nc, N] (YOLOv8/YOLO11 export, transposed, no objectness).
 * - nms: built-in NMS; last dim 6 = x1,y1,x2,y2,score,class ([1, N, 6] or [N, 6]);
 *   last dim 7 = batch,x1,y1,x2,y2,class,score ([N, 7], YOLOv7 end2end / onnx NonMaxSuppression style).
 * - ultraface: outputs `scores` [1, N, 2] (softmaxed) and `boxes` [1, N, 4] normalised x1,y1,x2,y2.
 * - retinaface: raw `loc` [1, N, 4] and `conf` [1, N, 2] against SSD priors (minSizes, strides, variances).
 * - blazeface: MediaPipe BlazeFace, score logits and box regressors per anchor layer (see blazeface.ts).
 * - yunet: per stride s (strides, default 8/16/32) outputs cls_s, obj_s [1, N, 1], bbox_s [1, N, 4],
 *   kps_s [1, N, 10] (five landmarks), one row per grid cell (see yunet.ts).
 */
export const OutputSchema = Type.Object(
  {
    kind: OneOf(OUTPUT_KINDS),
    strides: Type.Optional(positiveInts('a non-empty array of positive integers')),
    corners: Type.Optional(Type.Integer({ minimum: 0, maximum: 64, expected: 'an integer 0..64' })),
    normalized: Type.Optional(Type.Boolean({ expected: 'true or false' })),
    // Output tensor names when the kind reads more than one (ultraface, retinaface).
    scores: Type.Optional(nonEmpty('an output tensor name')),
    boxes: Type.Optional(nonEmpty('an output tensor name')),
    /** retinaface priors: one list of square anchor sizes per stride. */
    minSizes: Type.Optional(Type.Array(Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1 }), { expected: 'an array of arrays of positive integers, one per stride' })),
    variances: Type.Optional(Type.Tuple([Type.Number({ exclusiveMinimum: 0 }), Type.Number({ exclusiveMinimum: 0 })], { expected: 'two positive numbers' })),
    /** blazeface: anchors per grid cell for each stride. */
    anchorsPerCell: Type.Optional(positiveInts('a non-empty array of positive integers')),
    /** IoU for the NMS applied after decoding (not used by kind nms). */
    iou: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, expected: 'a number in (0, 1]' })),
  },
  { expected: 'an object' },
);

/**
 * A model made here from another manifest's file (scripts/quantize/), not downloaded: `pixveil models
 * quantize` writes it beside its source with a provenance record, and that record, not `sha256`, is
 * what the file is checked against (`sha256` is the reference build's; calibrated int8 scales may
 * differ in their last bits on a CPU with other kernels).
 */
export const DerivedSchema = Type.Object(
  {
    from: nonEmpty('the name of the manifest whose file this one is made from'),
    fromSha256: Type.String({ pattern: '^[0-9a-f]{64}$', expected: "64 lower-case hex digits (the source file's sha256)" }),
    precision: { ...either(['float', 'int8'] as const), description: 'float: integer chains folded back into float; int8: static QDQ' },
    script: nonEmpty('the script that makes the file'),
    provenance: Type.String({ pattern: '^[^/]+$', expected: 'a bare file name (the record written beside the model file)' }),
  },
  { expected: 'an object with from, fromSha256, precision, script and provenance', additionalProperties: true },
);

// Fields not named here are allowed (and kept): a manifest may carry notes of its own.
export const ModelManifestSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$', expected: 'lower-case letters, digits, ".", "_" or "-", starting with a letter or digit' }),
    // A detection kind's slot (src/kinds.ts): which detector this model can be.
    task: OneOf(kindSlots()),
    // Joined to MODEL_DIR, so no directory part.
    file: Type.String({ pattern: '^[^/]+$', expected: 'a bare file name' }),
    bytes: Type.Optional(Type.Integer({ minimum: 1, expected: 'the file size in bytes' })),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$', expected: '64 lower-case hex digits' }),
    source: SourceSchema,
    license: nonEmpty('a non-empty string'),
    /** Where the licence comes from when the repository hosting the file has none of its own. */
    licenseNote: Type.Optional(nonEmpty('a non-empty string')),
    derived: Type.Optional(DerivedSchema),
    input: InputSchema,
    output: OutputSchema,
    classes: Type.Array(Type.String(), { minItems: 1, expected: 'a non-empty array of names' }),
    /**
     * The score threshold a job gets for this model when it asks for none (face_threshold, plate_threshold…);
     * unset: the default of its kind (src/kinds.ts). YOLOv9-t scores differ from HyperLPR's.
     */
    threshold: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, expected: 'a number in (0, 1)' })),
  },
  { expected: 'a JSON object' },
);

export type ModelTask = string;
export type OutputKind = (typeof OUTPUT_KINDS)[number];
export type OutputSpec = Static<typeof OutputSchema>;
/** A manifest as its file may write it: layout, align and padValue may be left out. */
export type ManifestAsWritten = Static<typeof ModelManifestSchema>;
type InputAsWritten = ManifestAsWritten['input'];
/** The input as validated: layout, align and padValue filled with their defaults. */
export type InputSpec = InputAsWritten & Required<Pick<InputAsWritten, 'layout' | 'align' | 'padValue'>>;
/** A manifest as validated (manifest.ts validateManifest). */
export type ModelManifest = Omit<ManifestAsWritten, 'input'> & { input: InputSpec };
