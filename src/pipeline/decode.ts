import sharp from 'sharp';
import type { RawImage } from '../addon/types.js';
import { errors, PixveilError } from '../errors.js';
import type { ImageExt } from '../image-format.js';
import { readImageHeader } from './image-header.js';
import { defaults } from '../config/defaults.js';

export interface DecodeLimits {
  /** Width or height beyond this is refused from the header (MAX_DIMENSION). */
  maxDimension?: number;
}

export interface DecodedImage {
  image: RawImage;
  format: ImageExt;
  hasAlpha: boolean;
  /** Page count before we took the first (animated GIF/WebP, multi-page). */
  pages: number;
  /** The original's raw EXIF block, for `metadata=safe` (encode picks what may be kept). */
  exif?: Buffer;
  /** What decide whether a JPEG can keep its blocks (pipeline/encode.ts): the pixels were turned or their colours converted. */
  orientation: number;
  hasIccProfile: boolean;
  /** Channels as stored (1 for a grayscale JPEG, 4 for CMYK), before the conversion to sRGB. */
  storedChannels: number;
}

/**
 * One decode per image: EXIF orientation applied, converted to 8-bit sRGB (CMYK, 16-bit and
 * grayscale inputs included), alpha kept when present. The header is read first so an image
 * over maxPixels or MAX_DIMENSION is refused before any pixel is decompressed. Animated and
 * multi-page images are refused (ANIMATED_IMAGE): anonymizing one frame and dropping the rest
 * would hand back something other than what was sent.
 */
export async function decodeImage(input: Buffer, maxPixels: number, limits: DecodeLimits = {}): Promise<DecodedImage> {
  const header = await readImageHeader(input, { maxPixels, maxDimension: limits.maxDimension ?? defaults.maxDimension });
  const { format, metadata: meta } = header;
  if (header.pages > 1) throw errors.animatedImage(header.pages);
  try {
    const { data, info } = await sharp(input, { limitInputPixels: maxPixels, failOn: 'error', pages: 1 })
      .rotate()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 && info.channels !== 4) throw errors.undecodable(`unexpected ${info.channels} channels after conversion`);
    return {
      image: { data, width: info.width, height: info.height, channels: info.channels },
      format,
      hasAlpha: info.channels === 4,
      pages: meta.pages ?? 1,
      exif: meta.exif,
      orientation: meta.orientation ?? 1,
      hasIccProfile: Boolean(meta.icc),
      storedChannels: meta.channels ?? info.channels,
    };
  } catch (err) {
    if (err instanceof PixveilError) throw err;
    throw errors.undecodable((err as Error).message);
  }
}
