import type { ImageExt } from '../image-format.js';
import type { VideoExt } from '../video-format.js';

// Magic bytes decide the type; Content-Type and file names are only hints a client can get wrong.
const OTHER_SIGNATURES: Array<[string, (b: Buffer) => boolean]> = [
  ['GIF', (b) => b.subarray(0, 4).toString('latin1') === 'GIF8'],
  ['TIFF', (b) => ['II*\0', 'MM\0*'].includes(b.subarray(0, 4).toString('latin1'))],
  ['BMP', (b) => b.subarray(0, 2).toString('latin1') === 'BM'],
  ['PDF', (b) => b.subarray(0, 5).toString('latin1') === '%PDF-'],
  ['HEIF/AVIF', (b) => b.subarray(4, 8).toString('latin1') === 'ftyp'],
  ['SVG/XML', (b) => /^\s*</.test(b.subarray(0, 64).toString('latin1'))],
];

export function sniffImageType(bytes: Buffer): ImageExt | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpg';
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (bytes.length >= 12 && bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return 'webp';
  return undefined;
}

/** A name for what the bytes look like, for the 415 message. */
export function describeUnsupported(bytes: Buffer): string {
  for (const [name, test] of OTHER_SIGNATURES) if (bytes.length >= 8 && test(bytes)) return name;
  return 'not a recognised image (checked the magic bytes)';
}

/** ISO BMFF brands that are still images (HEIF, AVIF), not movies. */
const IMAGE_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1', 'avif', 'avis']);
/** Top-level QuickTime atoms a MOV may open with instead of ftyp. */
const QUICKTIME_ATOMS = new Set(['moov', 'mdat', 'wide', 'free', 'skip', 'pnot']);

/**
 * Which video container the bytes are: MP4 (ftyp with a movie brand), MOV (ftyp qt, or a bare
 * QuickTime atom), Matroska or WebM (EBML header, by its DocType), MPEG-TS (sync byte every 188).
 */
export function sniffVideoType(bytes: Buffer): VideoExt | undefined {
  if (bytes.length < 12) return undefined;
  const box = bytes.subarray(4, 8).toString('latin1');
  if (box === 'ftyp') {
    const brand = bytes.subarray(8, 12).toString('latin1');
    if (IMAGE_BRANDS.has(brand)) return undefined;
    return brand === 'qt  ' ? 'mov' : 'mp4';
  }
  if (QUICKTIME_ATOMS.has(box) && bytes.readUInt32BE(0) >= 8) return 'mov';
  if (bytes.readUInt32BE(0) === 0x1a45dfa3) {
    const head = bytes.subarray(0, 64).toString('latin1');
    return head.includes('webm') ? 'webm' : 'mkv';
  }
  if (bytes[0] === 0x47 && bytes.length >= 188 * 3 && bytes[188] === 0x47 && bytes[376] === 0x47) return 'ts';
  return undefined;
}

/** A name for what the bytes look like when they are no video, for the 415 message. */
export function describeNonVideo(bytes: Buffer): string {
  const image = sniffImageType(bytes);
  if (image) return `a ${image.toUpperCase()} image (send it to POST /v1/images)`;
  if (bytes.length >= 12 && bytes.subarray(4, 8).toString('latin1') === 'ftyp') return 'HEIF/AVIF image';
  for (const [name, test] of OTHER_SIGNATURES) if (bytes.length >= 8 && test(bytes)) return name;
  return 'not a recognised video container (checked the magic bytes)';
}
