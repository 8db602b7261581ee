import type { RawDetection } from '../models/postprocess/candidates.js';
import { clipRegion, type PixelRegion } from '../models/input.js';

export interface HeadRegionOptions {
  /** Persons below this score give no face pass. */
  minScore: number;
  /** Most head crops per image; persons past it are counted in `skipped`. */
  max: number;
  /** Input size of the face model; crops get its aspect ratio so a stretching model does not distort faces. */
  modelWidth: number;
  modelHeight: number;
  /** How far the full-image pass shrinks the image; persons whose face it already sees at `enough` model pixels get no crop. */
  fullScale: number;
  enough?: number;
  /** Largest upscale of a crop into the model input; tinier heads get a larger crop instead. */
  maxUpscale?: number;
}

export interface HeadRegions {
  regions: PixelRegion[];
  /** Persons that qualified for a crop, the cap included. */
  persons: number;
  /** Qualifying persons left without a crop because of the cap. */
  skipped: number;
}

/** The face's likely size in pixels for a person box: a standing person's head is ~0.14 of the height, a bust's ~0.4 of the width. */
export const faceSizeOf = (w: number, h: number) => Math.min(0.4 * w, 0.5 * h);

/**
 * Regions for a face pass on the head of each person the object detector found: the top of the
 * box (as tall as it is wide, at least a third of its height), widened to the face model's aspect
 * ratio. Only persons whose face the full-image pass shrinks below `enough` model pixels and that
 * are not too small to carry a face of interest (`minFace` px), best score first, at most `max`.
 * Upscaling the head into the model input is where a small face's recall comes from.
 */
export function headRegions(
  objects: RawDetection[],
  personClass: number,
  imageWidth: number,
  imageHeight: number,
  options: HeadRegionOptions & { minFace?: number },
): HeadRegions {
  const enough = options.enough ?? 20;
  const minFace = options.minFace ?? 8;
  const maxUpscale = options.maxUpscale ?? 4;
  const aspect = options.modelWidth / options.modelHeight;
  const persons = objects
    .filter((o) => o.classId === personClass && o.score >= options.minScore)
    .filter((o) => {
      const face = faceSizeOf(o.x2 - o.x1, o.y2 - o.y1);
      return face >= minFace && face / options.fullScale < enough;
    })
    .sort((a, b) => b.score - a.score);
  const regions: PixelRegion[] = [];
  for (const o of persons.slice(0, options.max)) {
    const w = o.x2 - o.x1;
    const h = o.y2 - o.y1;
    const margin = 0.1 * Math.min(w, h);
    let height = Math.min(h, Math.max(w, h / 3)) + 2 * margin;
    let width = w + 2 * margin;
    // The model's aspect ratio, grown on the short side; never smaller than the model input / maxUpscale.
    if (width / height < aspect) width = height * aspect;
    else height = width / aspect;
    const minW = options.modelWidth / maxUpscale;
    if (width < minW) [width, height] = [minW, minW / aspect];
    const cx = (o.x1 + o.x2) / 2;
    const top = o.y1 - margin - Math.max(0, height - (Math.min(h, Math.max(w, h / 3)) + 2 * margin)) / 4;
    // Shifted (not clipped) into the image where it fits, so the crop keeps the model's aspect ratio.
    const x = Math.max(0, Math.min(cx - width / 2, imageWidth - width));
    const y = Math.max(0, Math.min(top, imageHeight - height));
    const region = clipRegion({ x, y, width, height }, imageWidth, imageHeight);
    if (region) regions.push(region);
  }
  return { regions, persons: persons.length, skipped: Math.max(0, persons.length - options.max) };
}
