// One video frame through the image pipeline's stages: the same detection passes, plausibility
// filter and blur as a photo (process-image.ts), on raw RGB pixels that ffmpeg decoded, with no
// image decode or encode. Video jobs (src/video/) send each frame here through the pool.
import { pixelOps } from '../addon/index.js';
import type { RawImage } from '../addon/types.js';
import type { DetectionSettings } from '../config/detection.js';
import type { Box, Detection, JobOptions } from '../job.js';
import { detectionKinds } from '../kinds.js';
import { detectAll, type Detectors, type Timed } from './detect.js';
import { plausible } from './plausibility.js';
import { enlarge, shouldBlur } from './regions.js';

/** A detection in one frame, in frame pixels: what the tracker links across frames. */
export interface FrameDetection {
  kind: Detection['kind'];
  label: string;
  score: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Every enabled detector on one frame (each kind of src/kinds.ts); boxes of an implausible shape dropped as for images. */
export async function detectOnFrame(frame: RawImage, options: JobOptions, detectors: Detectors, settings: DetectionSettings, timed: Timed): Promise<FrameDetection[]> {
  const found = await detectAll(frame, options, detectors, settings, timed);
  const out: FrameDetection[] = [];
  for (const kind of detectionKinds()) {
    const detector = detectors[kind.slot];
    if (!detector || !options.detect[kind.slot]) continue;
    for (const raw of found[kind.slot] ?? []) {
      if (!plausible(raw, kind.name, frame.width, frame.height, settings.plausibility)) continue;
      const label = kind.labelledByClass ? (detector.manifest.classes[raw.classId] ?? `class_${raw.classId}`) : kind.name;
      out.push({ kind: kind.name, label, score: Math.round(raw.score * 1000) / 1000, x: raw.x1, y: raw.y1, width: raw.x2 - raw.x1, height: raw.y2 - raw.y1 });
    }
  }
  return out;
}

/**
 * Blurs the boxes a frame ends up with (the tracker's, look-ahead and carried ones included) in
 * place: faces and plates always, objects when blur_classes names them, each grown by its kind's
 * margin exactly as on a photo. Returns the regions blurred.
 */
export function blurFrame(frame: RawImage, boxes: ReadonlyArray<Pick<FrameDetection, 'kind' | 'label' | 'x' | 'y' | 'width' | 'height'>>, options: JobOptions, settings: DetectionSettings): Box[] {
  const regions: Box[] = [];
  for (const b of boxes) {
    if (!shouldBlur({ kind: b.kind, label: b.label }, options)) continue;
    const margin = settings.blurMargin[b.kind] ?? 0;
    const grown = enlarge({ x: b.x, y: b.y, width: b.width, height: b.height }, margin, frame.width, frame.height);
    if (grown.width > 0 && grown.height > 0) regions.push(grown);
  }
  if (regions.length > 0) pixelOps.blurRegions(frame, regions, { style: options.blur, shape: options.shape });
  return regions;
}
