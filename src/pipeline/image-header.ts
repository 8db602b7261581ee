import sharp, { type Metadata } from 'sharp';
import { errors } from '../errors.js';
import { imageExtOf, type ImageExt } from '../image-format.js';

export interface HeaderLimits {
  /** Width × height beyond this is refused (MAX_PIXELS). */
  maxPixels: number;
  /** Width or height beyond this is refused (MAX_DIMENSION). */
  maxDimension: number;
}

export interface ImageHeader {
  format: ImageExt;
  width: number;
  /** One page's height (animated and multi-page images decode their first page only). */
  height: number;
  /** Pixels the decoder will allocate: width × height of one page. */
  pixels: number;
  pages: number;
  metadata: Metadata;
}

/**
 * What the decoder will allocate, read from the header with the decoder's own parser (libvips'
 * header read: no pixel is decompressed, well under a millisecond), and refused when it is over
 * MAX_DIMENSION or MAX_PIXELS. A 267-byte JPEG may declare 10000×10000: this is where it is caught.
 */
export async function readImageHeader(input: Buffer, limits: HeaderLimits): Promise<ImageHeader> {
  let metadata: Metadata;
  try {
    metadata = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw errors.undecodable((err as Error).message);
  }
  const format = metadata.format ? imageExtOf(metadata.format) : undefined;
  if (!format) throw errors.unsupportedMediaType(metadata.format ?? 'unknown');
  const width = metadata.width ?? 0;
  const height = metadata.pageHeight ?? metadata.height ?? 0;
  if (width <= 0 || height <= 0) throw errors.undecodable('the header declares no width or height');
  if (width > limits.maxDimension || height > limits.maxDimension) throw errors.imageDimensionTooLarge(width, height, limits.maxDimension);
  if (width * height > limits.maxPixels) throw errors.imageTooLarge(width, height, limits.maxPixels);
  return { format, width, height, pixels: width * height, pages: metadata.pages ?? 1, metadata };
}
