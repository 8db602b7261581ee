// JPEG in, JPEG out: keep the input's DCT blocks wherever no region was blurred (src/addon/jpeg-blocks.ts),
// so untouched pixels come back bit-identical and nothing is compressed twice. When a job cannot, this
// says why, and encode.ts re-encodes the whole photo as before.
import sharp from 'sharp';
import { jpegBlocks, type BlurRegion, type JpegBlocksOutcome, type JpegMarker, type RawImage } from '../addon/index.js';
import type { ImageExt } from '../image-format.js';
import type { DecodedImage } from './decode.js';
import { safeExif, type KeptMetadata } from './metadata.js';

/** The upload and what decode learned of it, and what the blur stage changed. */
export interface EncodeSource {
  input: Buffer;
  decoded: Pick<DecodedImage, 'format' | 'orientation' | 'hasIccProfile' | 'storedChannels'>;
  regions: BlurRegion[];
}

/** Why this output re-encodes the whole photo, or undefined when it may keep the input's blocks. */
export function wholeEncodeReason(ext: ImageExt, quality: number | undefined, source: EncodeSource): string | undefined {
  if (source.decoded.format !== 'jpg' || ext !== 'jpg') return 'not JPEG in and JPEG out';
  if (quality !== undefined) return `quality=${quality} was asked for`;
  // The pixels were turned upright at decode; the stored blocks still lie the other way.
  if (source.decoded.orientation !== 1) return `EXIF orientation ${source.decoded.orientation}`;
  // Decode converted the colours out of the embedded profile; the output carries no profile of the input's.
  if (source.decoded.hasIccProfile) return 'an embedded ICC profile';
  if (!jpegBlocks.support.available) return jpegBlocks.support.detail;
  return undefined;
}

/** APPn segments of a JPEG (payload after the length field), in file order. */
function appSegments(jpeg: Buffer): JpegMarker[] {
  const out: JpegMarker[] = [];
  for (let i = 2; i + 4 <= jpeg.length && jpeg[i] === 0xff && jpeg[i + 1] !== 0xda; i += 2 + jpeg.readUInt16BE(i + 2)) {
    const code = jpeg[i + 1];
    if (code >= 0xe1 && code <= 0xef) out.push({ code, payload: jpeg.subarray(i + 4, i + 2 + jpeg.readUInt16BE(i + 2)) });
  }
  return out;
}

/**
 * The segments `metadata=` puts in the output, made by the encoder that full re-encodes use, so both
 * paths write the same EXIF: none for `strip`; for `safe` the fields safeExif keeps and an sRGB
 * profile (not on a grayscale JPEG, which an RGB profile cannot describe).
 */
async function metadataMarkers(kept: KeptMetadata, grey: boolean): Promise<JpegMarker[]> {
  if (kept.policy !== 'safe') return [];
  let carrier = sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).withExif(safeExif(kept.exif));
  if (!grey) carrier = carrier.withIccProfile('srgb');
  return appSegments(await carrier.jpeg().toBuffer());
}

/** The JPEG with its untouched blocks as they were, or why not (then the caller re-encodes). */
export async function keepJpegBlocks(image: RawImage, ext: ImageExt, quality: number | undefined, kept: KeptMetadata, source: EncodeSource): Promise<JpegBlocksOutcome> {
  const reason = wholeEncodeReason(ext, quality, source);
  if (reason) return { kept: false, reason };
  const markers = await metadataMarkers(kept, source.decoded.storedChannels === 1);
  return jpegBlocks.keep({ jpeg: source.input, image, regions: source.regions, markers });
}
