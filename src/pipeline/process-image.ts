import { pixelOps } from '../addon/index.js';
import type { RawDetection } from '../models/postprocess/candidates.js';
import { errors } from '../errors.js';
import { MAX_OUTPUT_SIDE, outputExt, type ImageExt } from '../image-format.js';
import type { Box, Detection, DetectionKind, JobOptions } from '../job.js';
import { detectionKinds, type DetectionKindEntry } from '../kinds.js';
import { decodeImage } from './decode.js';
import type { DetectionSettings } from '../config/detection.js';
import { detectAll, modelsInUse, type Detectors } from './detect.js';
import { encodeOutput } from './encode.js';
import { plausible } from './plausibility.js';
import { releaseLargeImage } from './release-memory.js';
import { stageTimer } from './stage-timer.js';
import { enlarge, round1, shouldBlur } from './regions.js';

export type { Detectors } from './detect.js';

export interface ProcessedImage {
  image: Buffer;
  format: ImageExt;
  width: number;
  height: number;
  detections: Detection[];
  timings: Record<string, number>;
  models: Record<string, string>;
}

function toDetection(raw: RawDetection, kind: DetectionKindEntry, labels: string[]): Detection {
  const name: DetectionKind = kind.name;
  const detection: Detection = {
    kind: name,
    label: kind.labelledByClass ? (labels[raw.classId] ?? `class_${raw.classId}`) : name,
    score: Math.round(raw.score * 1000) / 1000,
    box: { x: round1(raw.x1), y: round1(raw.y1), width: round1(raw.x2 - raw.x1), height: round1(raw.y2 - raw.y1) },
    blurred: false,
  };
  if (raw.landmarks) detection.landmarks = raw.landmarks.map(([x, y]): [number, number] => [round1(x), round1(y)]);
  return detection;
}

/** decode → detect (every kind of src/kinds.ts; tiles and crops per settings) → drop implausible boxes → blur → encode, timing each stage. */
export async function processImage(
  input: Buffer,
  options: JobOptions,
  detectors: Detectors,
  limits: { maxPixels: number; maxDimension?: number },
  settings: DetectionSettings,
): Promise<ProcessedImage> {
  const decoded = { pixels: 0 };
  try {
    return await anonymize(input, options, detectors, limits, settings, decoded);
  } finally {
    // Here the decoded image is no longer referenced: a large one is freed now, not at some later collection.
    await releaseLargeImage(decoded.pixels);
  }
}

async function anonymize(
  input: Buffer,
  options: JobOptions,
  detectors: Detectors,
  limits: { maxPixels: number; maxDimension?: number },
  settings: DetectionSettings,
  size: { pixels: number },
): Promise<ProcessedImage> {
  const { timings, timed } = stageTimer();

  const decoded = await timed('decode', () => decodeImage(input, limits.maxPixels, { maxDimension: limits.maxDimension }));
  const { image } = decoded;
  size.pixels = image.width * image.height;
  // Checked before detection: an image the encoder cannot write would fail only at the end, after all the work.
  const format = outputExt(options.format, decoded.format);
  const maxSide = MAX_OUTPUT_SIDE[format];
  if (image.width > maxSide || image.height > maxSide) throw errors.outputTooLarge(image.width, image.height, format === 'jpg' ? 'JPEG' : format.toUpperCase(), maxSide);
  const found = await detectAll(image, options, detectors, settings, timed);
  const detections: Detection[] = [];
  const models = modelsInUse(detectors, options);
  for (const kind of detectionKinds()) {
    const detector = detectors[kind.slot];
    if (!detector || !options.detect[kind.slot]) continue;
    for (const raw of found[kind.slot] ?? []) {
      if (!plausible(raw, kind.name, image.width, image.height, settings.plausibility)) continue;
      detections.push(toDetection(raw, kind, detector.manifest.classes));
    }
  }

  const regions: Box[] = [];
  for (const d of detections) {
    if (!shouldBlur(d, options)) continue;
    d.blurred = true;
    const margin = settings.blurMargin[d.kind] ?? 0;
    const grown = enlarge(d.box, margin, image.width, image.height);
    d.blurBox = { x: round1(grown.x), y: round1(grown.y), width: round1(grown.width), height: round1(grown.height) };
    regions.push(grown);
  }
  await timed('blur', () => pixelOps.blurRegions(image, regions, { style: options.blur, shape: options.shape }));

  const kept = { policy: options.metadata ?? 'strip', exif: decoded.exif };
  const encoded = await timed('encode', () => encodeOutput(image, format, options.quality, kept, { input, decoded, regions }));
  return { image: encoded.data, format, width: image.width, height: image.height, detections, timings, models };
}
