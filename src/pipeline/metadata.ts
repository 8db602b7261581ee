import exifReader from 'exif-reader';
import type { Exif } from 'sharp';
import type { MetadataPolicy } from '../job.js';

/** What the encoder may carry over from the original (`metadata=`), and the original's EXIF. */
export interface KeptMetadata {
  policy: MetadataPolicy;
  exif?: Buffer;
}

// KEEP_METADATA=safe keeps a list of fields rather than dropping a list: free-text fields
// (ImageDescription, UserComment, XPComment…) and serial numbers can name a person or a place,
// and a block list would let every tag nobody thought of through. Never kept: GPS (IFD3), the
// thumbnail (IFD1, the unblurred photo), MakerNote, XMP, and Orientation, which decode applied.
const KEPT_IMAGE_TAGS = ['Make', 'Model', 'Software', 'DateTime', 'Artist', 'Copyright'] as const;
const KEPT_PHOTO_TAGS = ['DateTimeOriginal', 'DateTimeDigitized', 'ISOSpeedRatings', 'LensMake', 'LensModel'] as const;

function exifText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.replace(/\0+$/, '') || undefined;
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  if (Array.isArray(value) && typeof value[0] === 'number' && Number.isInteger(value[0])) return String(value[0]);
  if (value instanceof Date && !Number.isNaN(value.getTime())) {
    // exif-reader reads EXIF's zone-less dates as UTC; written back the same way.
    const p = (n: number) => String(n).padStart(2, '0');
    return `${value.getUTCFullYear()}:${p(value.getUTCMonth() + 1)}:${p(value.getUTCDate())} ${p(value.getUTCHours())}:${p(value.getUTCMinutes())}:${p(value.getUTCSeconds())}`;
  }
  return undefined;
}

function pick(tags: Record<string, unknown> | undefined, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const text = exifText(tags?.[name]);
    if (text !== undefined) out[name] = text;
  }
  return out;
}

/**
 * The EXIF an output may carry under `metadata=safe`, as sharp's `withExif` object: the
 * camera, dates, artist and copyright of the original, Orientation reset to 1 (the pixels are
 * upright already). Unreadable EXIF keeps nothing rather than failing the job.
 */
export function safeExif(exif: Buffer | undefined): Exif {
  let parsed: ReturnType<typeof exifReader> | undefined;
  try {
    parsed = exif ? exifReader(exif) : undefined;
  } catch {
    parsed = undefined;
  }
  const photo = pick(parsed?.Photo as Record<string, unknown> | undefined, KEPT_PHOTO_TAGS);
  return {
    IFD0: { ...pick(parsed?.Image as Record<string, unknown> | undefined, KEPT_IMAGE_TAGS), Orientation: '1' },
    ...(Object.keys(photo).length ? { IFD2: photo } : {}),
  };
}
