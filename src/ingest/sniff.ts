import type { ImageExt } from '../image-format.js';

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
