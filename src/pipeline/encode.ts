import sharp from 'sharp';
import type { RawImage } from '../addon/types.js';
import type { ImageExt } from '../image-format.js';
import type { MetadataPolicy } from '../job.js';
import { safeExif } from './metadata.js';

/** What the encoder may carry over from the original (`metadata=`), and the original's EXIF. */
export interface KeptMetadata {
  policy: MetadataPolicy;
  exif?: Buffer;
}

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
