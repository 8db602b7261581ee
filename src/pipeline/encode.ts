import sharp from 'sharp';
import type { RawImage } from '../addon/types.js';
import type { ImageExt } from '../image-format.js';
import { JOB_OPTION_DEFAULTS } from '../job.js';
import { keepJpegBlocks, type EncodeSource } from './encode-blocks.js';
import { safeExif, type KeptMetadata } from './metadata.js';

export type { KeptMetadata } from './metadata.js';

/**
 * Encodes the anonymized pixels. They come from raw memory, so nothing of the original's EXIF,
 * GPS, XMP or ICC reaches the output unless asked: `safe` writes back the fields `safeExif`
 * keeps and an sRGB profile (decode converted the pixels to sRGB, so the original profile would
 * no longer describe them). Orientation was applied at decode.
 */
export async function encodeImage(image: RawImage, ext: ImageExt, quality: number, kept: KeptMetadata = { policy: 'strip' }): Promise<Buffer> {
  let pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
  if (kept.policy === 'safe') pipeline = pipeline.withExif(safeExif(kept.exif)).withIccProfile('srgb');
  switch (ext) {
    case 'jpg':
      // Huffman optimisation (sharp's default) costs ~3.5x the encode time for ~3% smaller files:
      // 26 → 10 ms for 1080p here (bench/encode-options.ts).
      return pipeline.jpeg({ quality, mozjpeg: false, chromaSubsampling: '4:2:0', optimiseCoding: false }).toBuffer();
    case 'png':
      return pipeline.png({ compressionLevel: 4 }).toBuffer();
    case 'webp':
      return pipeline.webp({ quality, effort: 2 }).toBuffer();
  }
}

export interface EncodedOutput {
  data: Buffer;
  /** blocks: the input JPEG's untouched blocks kept (encode-blocks.ts); whole: every pixel re-encoded. */
  method: 'blocks' | 'whole';
  /** Why a whole re-encode, when blocks could not be kept. */
  reason?: string;
  /** blocks: MCUs re-encoded under blurred regions, of all the image's MCUs. */
  mcus?: { rewritten: number; total: number };
  /** blocks: which Huffman tables coded the output (src/addon/types.ts, JpegBlocksOutcome). */
  huffman?: 'standard' | 'input' | 'input-extended' | 'optimal';
}

/**
 * The output of a job: a JPEG written as JPEG without an explicit quality keeps its untouched
 * blocks where it can; everything else is encoded whole at `quality` (default 90).
 */
export async function encodeOutput(image: RawImage, ext: ImageExt, quality: number | undefined, kept: KeptMetadata, source: EncodeSource): Promise<EncodedOutput> {
  const copy = await keepJpegBlocks(image, ext, quality, kept, source);
  if (copy.kept) return { data: copy.data, method: 'blocks', mcus: { rewritten: copy.mcusRewritten, total: copy.mcusTotal }, huffman: copy.huffman };
  return { data: await encodeImage(image, ext, quality ?? JOB_OPTION_DEFAULTS.quality, kept), method: 'whole', reason: copy.reason };
}
