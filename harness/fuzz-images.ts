import zlib from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { randomBytes } from './hostile-files.js';

// Structure-aware mutations of real JPEG, PNG and WebP files: each family damages one thing a
// decoder reads (a header field, a segment, a chunk, a checksum), so the fuzz reaches past the
// magic bytes instead of stopping at the first byte check.

export type Rand = () => number;
export type ImageFormat = 'jpeg' | 'png' | 'webp';

export interface SeedImage {
  name: string;
  format: ImageFormat;
  bytes: Buffer;
}

export interface MutatedImage {
  /** `<format>:<mutation>`, the unit the fuzz counts outcomes by. */
  family: string;
  data: Buffer;
}

const int = (rand: Rand, n: number) => Math.floor(rand() * n);
const pick = <T>(rand: Rand, items: readonly T[]): T => items[int(rand, items.length)];

/** Small real photos in every variant the service accepts (≈ 256 px: thousands decode in minutes). */
export async function seedImages(photos: Buffer[], width = 256): Promise<SeedImage[]> {
  const out: SeedImage[] = [];
  for (const [i, photo] of photos.entries()) {
    const base = () => sharp(photo).rotate().resize({ width });
    const add = async (name: string, format: ImageFormat, s: Sharp) => out.push({ name: `${i}:${name}`, format, bytes: await s.toBuffer() });
    await add('jpeg-baseline', 'jpeg', base().jpeg({ quality: 80 }));
    await add('jpeg-progressive', 'jpeg', base().jpeg({ quality: 75, progressive: true }));
    await add('jpeg-grey-exif-icc', 'jpeg', base().greyscale().withIccProfile('p3').withExif({ IFD0: { Copyright: 'pixveil fuzz' } }).jpeg({ quality: 70 }));
    await add('png-rgb', 'png', base().png());
    await add('png-rgba-interlaced', 'png', base().ensureAlpha(0.5).png({ progressive: true }));
    await add('png-palette', 'png', base().png({ palette: true, colours: 64 }));
    await add('png-grey16', 'png', base().toColourspace('grey16').png());
    await add('webp-lossy', 'webp', base().webp({ quality: 70 }));
    await add('webp-lossless', 'webp', base().webp({ lossless: true }));
    await add('webp-alpha-icc-exif', 'webp', base().ensureAlpha(0.5).withIccProfile('p3').withExif({ IFD0: { Copyright: 'pixveil fuzz' } }).webp({ quality: 70 }));
  }
  return out;
}

/**
 * Valid images of extreme shapes (1×1, one pixel wide, 20000 long, either side of WebP's 16383
 * limit): nothing is damaged, so each must complete or fail with a documented code.
 */
export async function extremeShapes(): Promise<SeedImage[]> {
  const shapes: Array<[number, number]> = [[1, 1], [1, 2], [2, 1], [3, 700], [700, 3], [20_000, 2], [2, 20_000], [16_383, 4], [16_384, 4], [4, 16_384]];
  const out: SeedImage[] = [];
  for (const [width, height] of shapes) {
    const base = () => sharp({ create: { width, height, channels: 3, background: { r: 140, g: 90, b: 60 } } });
    out.push({ name: `${width}x${height}:png`, format: 'png', bytes: await base().png().toBuffer() });
    out.push({ name: `${width}x${height}:jpeg`, format: 'jpeg', bytes: await base().jpeg().toBuffer() });
    if (width <= 16_383 && height <= 16_383) out.push({ name: `${width}x${height}:webp`, format: 'webp', bytes: await base().webp().toBuffer() });
  }
  return out;
}

// ---- container parsing (lenient: a seed is always well formed, a mutated file may not be) ----

interface Segment {
  /** JPEG marker byte, PNG chunk type or WebP FourCC. */
  id: string;
  start: number;
  end: number;
}

/** JPEG marker segments from SOI up to and including the first SOS header; the rest is scan data. */
function jpegSegments(b: Buffer): { segments: Segment[]; scanStart: number } {
  const segments: Segment[] = [];
  let i = 2;
  while (i + 4 <= b.length && b[i] === 0xff) {
    const marker = b[i + 1];
    const length = b.readUInt16BE(i + 2);
    segments.push({ id: marker.toString(16), start: i, end: Math.min(b.length, i + 2 + length) });
    i += 2 + length;
    if (marker === 0xda) break;
  }
  return { segments, scanStart: i };
}

function pngChunks(b: Buffer): Segment[] {
  const chunks: Segment[] = [];
  let i = 8;
  while (i + 12 <= b.length) {
    const length = b.readUInt32BE(i);
    chunks.push({ id: b.toString('latin1', i + 4, i + 8), start: i, end: Math.min(b.length, i + 12 + length) });
    i += 12 + length;
  }
  return chunks;
}

function webpChunks(b: Buffer): Segment[] {
  const chunks: Segment[] = [];
  let i = 12;
  while (i + 8 <= b.length) {
    const length = b.readUInt32LE(i + 4);
    chunks.push({ id: b.toString('latin1', i, i + 4), start: i, end: Math.min(b.length, i + 8 + length + (length & 1)) });
    i += 8 + length + (length & 1);
  }
  return chunks;
}

function segmentsOf(format: ImageFormat, b: Buffer): Segment[] {
  return format === 'jpeg' ? jpegSegments(b).segments : format === 'png' ? pngChunks(b) : webpChunks(b);
}

function splice(b: Buffer, at: number, remove: number, insert: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([b.subarray(0, at), insert, b.subarray(at + remove)]);
}

export function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([head, body, crc]);
}

function webpChunk(fourcc: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(fourcc, 0, 'latin1');
  head.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, data, data.length & 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

/** Rewrites RIFF's size field to the file's real size, so only the intended field is wrong. */
function fixRiff(b: Buffer): Buffer {
  if (b.length >= 8) b.writeUInt32LE(b.length - 8, 4);
  return b;
}

/** A PNG chunk's CRC recomputed after its data was changed on purpose. */
function fixCrc(b: Buffer, chunk: Segment): void {
  const length = b.readUInt32BE(chunk.start);
  const crcAt = chunk.start + 8 + length;
  if (crcAt + 4 <= b.length) b.writeUInt32BE(zlib.crc32(b.subarray(chunk.start + 4, crcAt)) >>> 0, crcAt);
}

const EXTREME_16 = [0, 1, 2, 255, 256, 0x7fff, 0x8000, 0xfffe, 0xffff];
const EXTREME_32 = [0, 1, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

// ---- generic byte-level mutations ----

function bitflip(b: Buffer, rand: Rand): Buffer {
  const out = Buffer.from(b);
  const flips = 1 + int(rand, 32);
  for (let i = 0; i < flips; i++) out[4 + int(rand, out.length - 4)] ^= 1 << int(rand, 8);
  return out;
}

function truncate(b: Buffer, rand: Rand): Buffer {
  return b.subarray(0, 12 + int(rand, b.length - 12));
}

// ---- JPEG ----

function sofOf(b: Buffer): Segment | undefined {
  return jpegSegments(b).segments.find((s) => /^c[0-35-79a-bd-f]$/.test(s.id));
}

const JPEG: Record<string, (b: Buffer, rand: Rand, donor: Buffer) => Buffer> = {
  bitflip,
  truncate,
  'sof-dimensions': (b, rand) => {
    const out = Buffer.from(b);
    const sof = sofOf(out)!;
    out.writeUInt16BE(pick(rand, EXTREME_16), sof.start + 5);
    out.writeUInt16BE(pick(rand, EXTREME_16), sof.start + 7);
    return out;
  },
  'sof-fields': (b, rand) => {
    // Precision, component count, sampling factors and table ids set to values decoders must refuse.
    const out = Buffer.from(b);
    const sof = sofOf(out)!;
    const at = sof.start + pick(rand, [4, 9, 11, 12, 14, 15]);
    if (at < sof.end) out[at] = pick(rand, [0, 1, 2, 3, 4, 5, 12, 16, 0x44, 0xff]);
    if (rand() < 0.3) out[sof.start + 1] = pick(rand, [0xc1, 0xc2, 0xc3, 0xc5, 0xc9, 0xcb, 0xcf]);
    return out;
  },
  'duplicate-marker': (b, rand) => {
    const { segments } = jpegSegments(b);
    const seg = pick(rand, segments);
    const copy = b.subarray(seg.start, seg.end);
    const where = pick(rand, segments).start;
    return splice(b, where, 0, rand() < 0.5 ? copy : Buffer.concat([copy, copy, copy]));
  },
  'remove-marker': (b, rand) => {
    const { segments } = jpegSegments(b);
    const seg = pick(rand, segments);
    return splice(b, seg.start, seg.end - seg.start);
  },
  'splice-marker': (b, rand, donor) => {
    // A segment from another JPEG (other tables, other frame header) in place of one of ours.
    const mine = jpegSegments(b).segments;
    const theirs = jpegSegments(donor).segments;
    const seg = pick(rand, mine);
    const other = pick(rand, theirs);
    return splice(b, seg.start, rand() < 0.5 ? seg.end - seg.start : 0, donor.subarray(other.start, other.end));
  },
  'huge-app': (b, rand) => {
    // Maximal APPn segments: EXIF (APP1), ICC chunks (APP2, with a lying chunk count), comments.
    const count = pick(rand, [1, 4, 40, 140]);
    const parts: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const kind = pick(rand, ['exif', 'icc', 'com', 'appn']);
      const payload = Buffer.alloc(65533, kind === 'com' ? 0x41 : int(rand, 256));
      if (kind === 'exif') payload.write('Exif\0\0MM\0*\0\0\0\x08\xff\xff', 0, 'latin1');
      if (kind === 'icc') {
        payload.write('ICC_PROFILE\0', 0, 'latin1');
        payload[12] = 1 + (i % 255);
        payload[13] = pick(rand, [0, 1, 2, 255]);
      }
      const marker = kind === 'exif' ? 0xe1 : kind === 'icc' ? 0xe2 : kind === 'com' ? 0xfe : 0xe3 + int(rand, 12);
      const head = Buffer.from([0xff, marker, 0xff, 0xff]);
      parts.push(head, payload);
    }
    return splice(b, 2, 0, Buffer.concat(parts));
  },
  'segment-length': (b, rand) => {
    const out = Buffer.from(b);
    const seg = pick(rand, jpegSegments(out).segments);
    out.writeUInt16BE(pick(rand, EXTREME_16), seg.start + 2);
    return out;
  },
  'scan-markers': (b, rand) => {
    // Restart markers, an early EOI, a second SOI or stray 0xFF bytes inside the entropy-coded data.
    const { scanStart } = jpegSegments(b);
    const at = scanStart + int(rand, Math.max(1, b.length - scanStart - 2));
    const insert = pick(rand, [[0xff, 0xd0 + int(rand, 8)], [0xff, 0xd9], [0xff, 0xd8], [0xff, 0xff, 0xff], [0xff, 0xc4, 0x00, 0x02]]);
    return splice(b, at, 0, Buffer.from(insert));
  },
};

// ---- PNG ----

const PNG: Record<string, (b: Buffer, rand: Rand, donor: Buffer) => Buffer> = {
  bitflip,
  truncate,
  'ihdr-dimensions': (b, rand) => {
    const out = Buffer.from(b);
    const ihdr = pngChunks(out).find((c) => c.id === 'IHDR')!;
    if (rand() < 0.7) out.writeUInt32BE(pick(rand, EXTREME_32), ihdr.start + 8);
    if (rand() < 0.7) out.writeUInt32BE(pick(rand, EXTREME_32), ihdr.start + 12);
    if (rand() < 0.8) fixCrc(out, ihdr);
    return out;
  },
  'ihdr-depth-colour': (b, rand) => {
    const out = Buffer.from(b);
    const ihdr = pngChunks(out).find((c) => c.id === 'IHDR')!;
    const field = pick(rand, [16, 17, 18, 19, 20]); // bit depth, colour type, compression, filter, interlace
    out[ihdr.start + field] = pick(rand, [0, 1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 255]);
    if (rand() < 0.5) out[ihdr.start + pick(rand, [16, 17])] = pick(rand, [1, 2, 4, 8, 16]);
    fixCrc(out, ihdr);
    return out;
  },
  'crc-break': (b, rand) => {
    const out = Buffer.from(b);
    const chunk = pick(rand, pngChunks(out));
    out[chunk.end - 1 - int(rand, 4)] ^= 0xff;
    return out;
  },
  'duplicate-chunk': (b, rand) => {
    const chunks = pngChunks(b);
    const chunk = pick(rand, chunks);
    const where = pick(rand, chunks).start;
    return splice(b, where, 0, b.subarray(chunk.start, chunk.end));
  },
  'remove-chunk': (b, rand) => {
    const chunk = pick(rand, pngChunks(b));
    return splice(b, chunk.start, chunk.end - chunk.start);
  },
  'splice-chunk': (b, rand, donor) => {
    const mine = pngChunks(b);
    const other = pick(rand, pngChunks(donor));
    const seg = pick(rand, mine);
    return splice(b, seg.start, rand() < 0.5 ? seg.end - seg.start : 0, donor.subarray(other.start, other.end));
  },
  'huge-chunk': (b, rand) => {
    // Large ancillary chunks: an iCCP that inflates far, an eXIf of junk, many text chunks.
    const kind = pick(rand, ['iCCP', 'eXIf', 'tEXt', 'zTXt', 'sPLT', 'PLTE']);
    const size = pick(rand, [1024, 65536, 1 << 20, 3 << 20]);
    let data: Buffer;
    if (kind === 'iCCP') data = Buffer.concat([Buffer.from('icc\0\0', 'latin1'), zlib.deflateSync(Buffer.alloc(size * 8, 0x20))]);
    else if (kind === 'zTXt') data = Buffer.concat([Buffer.from('Comment\0\0', 'latin1'), zlib.deflateSync(Buffer.alloc(size * 8, 0x41))]);
    else if (kind === 'tEXt') data = Buffer.concat([Buffer.from('Comment\0', 'latin1'), Buffer.alloc(size, 0x41)]);
    else data = randomBytes(rand, Math.min(size, 1 << 16));
    const copies = kind === 'tEXt' && rand() < 0.3 ? 8 : 1;
    const ihdr = pngChunks(b).find((c) => c.id === 'IHDR')!;
    return splice(b, ihdr.end, 0, Buffer.concat(Array.from({ length: copies }, () => pngChunk(kind, data))));
  },
  'chunk-length': (b, rand) => {
    const out = Buffer.from(b);
    const chunk = pick(rand, pngChunks(out));
    out.writeUInt32BE(pick(rand, EXTREME_32), chunk.start);
    return out;
  },
  'zlib-stream': (b, rand) => {
    // The IDAT's deflate stream damaged but the CRC right: the error surfaces in inflate, not the parser.
    const out = Buffer.from(b);
    const idat = pngChunks(out).find((c) => c.id === 'IDAT')!;
    const at = idat.start + 8 + int(rand, Math.max(1, idat.end - idat.start - 12));
    out[at] ^= 1 << int(rand, 8);
    if (rand() < 0.5) out[idat.start + 8] = pick(rand, [0x00, 0x78, 0xff]);
    fixCrc(out, idat);
    return out;
  },
};

// ---- WebP ----

function bitstreamChunk(b: Buffer): Segment | undefined {
  return webpChunks(b).find((c) => c.id === 'VP8 ' || c.id === 'VP8L');
}

const WEBP: Record<string, (b: Buffer, rand: Rand, donor: Buffer) => Buffer> = {
  bitflip,
  truncate,
  'riff-size': (b, rand) => {
    const out = Buffer.from(b);
    out.writeUInt32LE(pick(rand, [0, 4, out.length - 9, out.length, 0x7fffffff, 0xffffffff]), 4);
    return out;
  },
  'vp8-vp8l-dimensions': (b, rand) => {
    const out = Buffer.from(b);
    const chunk = bitstreamChunk(out)!;
    const data = chunk.start + 8;
    if (chunk.id === 'VP8 ') {
      // Frame header: 3-byte tag, start code 9d 01 2a, then 14-bit width and height with 2-bit scale.
      if (data + 10 <= out.length) {
        out.writeUInt16LE(pick(rand, [0, 1, 0x3fff, 0xffff, int(rand, 0x10000)]), data + 6);
        out.writeUInt16LE(pick(rand, [0, 1, 0x3fff, 0xffff, int(rand, 0x10000)]), data + 8);
        if (rand() < 0.2) out[data + 3] = 0;
      }
    } else if (data + 5 <= out.length) {
      // VP8L: signature 0x2f, then width-1 and height-1 in 14 bits each, alpha bit, 3-bit version.
      const w = pick(rand, [0, 0x3fff, int(rand, 0x4000)]);
      const h = pick(rand, [0, 0x3fff, int(rand, 0x4000)]);
      const version = rand() < 0.2 ? 1 + int(rand, 7) : 0;
      const bits = (w | (h << 14) | (1 << 28) | (version << 29)) >>> 0;
      out.writeUInt32LE(bits, data + 1);
      if (rand() < 0.1) out[data] = 0x00;
    }
    return out;
  },
  'vp8x-canvas': (b, rand) => {
    // A VP8X header with a 24-bit canvas (up to 16M × 16M) and flags, in front of the bitstream.
    const chunks = webpChunks(b);
    const vp8x = chunks.find((c) => c.id === 'VP8X');
    const header = Buffer.alloc(10);
    header[0] = pick(rand, [0, 0x10, 0x20, 0x08, 0x04, 0xff]);
    header.writeUIntLE(pick(rand, [0, 1, 255, 0xffff, 0xffffff, int(rand, 0x1000000)]), 4, 3);
    header.writeUIntLE(pick(rand, [0, 1, 255, 0xffff, 0xffffff, int(rand, 0x1000000)]), 7, 3);
    const out = vp8x ? splice(b, vp8x.start, vp8x.end - vp8x.start, webpChunk('VP8X', header)) : splice(b, 12, 0, webpChunk('VP8X', header));
    return fixRiff(out);
  },
  'duplicate-chunk': (b, rand) => {
    const chunks = webpChunks(b);
    const chunk = pick(rand, chunks);
    return fixRiff(splice(b, pick(rand, chunks).start, 0, b.subarray(chunk.start, chunk.end)));
  },
  'remove-chunk': (b, rand) => {
    const chunk = pick(rand, webpChunks(b));
    return fixRiff(splice(b, chunk.start, chunk.end - chunk.start));
  },
  'splice-chunk': (b, rand, donor) => {
    const mine = webpChunks(b);
    const other = pick(rand, webpChunks(donor));
    const seg = pick(rand, mine);
    return fixRiff(splice(b, seg.start, rand() < 0.5 ? seg.end - seg.start : 0, donor.subarray(other.start, other.end)));
  },
  'huge-chunk': (b, rand) => {
    const kind = pick(rand, ['ICCP', 'EXIF', 'XMP ', 'ALPH', 'JUNK']);
    const size = pick(rand, [1024, 65536, 1 << 20, 3 << 20]);
    const data = kind === 'EXIF' ? Buffer.concat([Buffer.from('MM\0*\0\0\0\x08\xff\xff', 'latin1'), Buffer.alloc(size)]) : Buffer.alloc(size, int(rand, 256));
    const chunks = webpChunks(b);
    return fixRiff(splice(b, pick(rand, chunks).start, 0, webpChunk(kind, data)));
  },
  'chunk-size': (b, rand) => {
    const out = Buffer.from(b);
    const chunk = pick(rand, webpChunks(out));
    out.writeUInt32LE(pick(rand, EXTREME_32), chunk.start + 4);
    return out;
  },
  animation: (b, rand) => {
    // VP8X with the animation flag and an ANIM chunk, with or without ANMF frames around the bitstream.
    const bits = bitstreamChunk(b)!;
    const header = Buffer.alloc(10);
    header[0] = 0x02;
    header.writeUIntLE(255, 4, 3);
    header.writeUIntLE(255, 7, 3);
    const anim = webpChunk('ANIM', Buffer.from([0, 0, 0, 0, 0, 0]));
    const frameHeader = Buffer.alloc(16);
    frameHeader.writeUIntLE(pick(rand, [10, 100, 0xffffff]), 12, 3);
    const frame = b.subarray(bits.start, bits.end);
    const frames = rand() < 0.7 ? [webpChunk('ANMF', Buffer.concat([frameHeader, frame])), webpChunk('ANMF', Buffer.concat([frameHeader, frame]))] : [frame];
    return fixRiff(Buffer.concat([b.subarray(0, 12), webpChunk('VP8X', header), anim, ...frames]));
  },
};

const FAMILIES: Record<ImageFormat, Record<string, (b: Buffer, rand: Rand, donor: Buffer) => Buffer>> = { jpeg: JPEG, png: PNG, webp: WEBP };

/** Every family name, `<format>:<mutation>`. */
export const imageFamilies: string[] = Object.entries(FAMILIES).flatMap(([format, table]) => Object.keys(table).map((m) => `${format}:${m}`));

/** One mutation of a seed picked by `rand`; a donor of the same format supplies spliced segments. */
export function mutateImage(seeds: SeedImage[], rand: Rand): MutatedImage {
  const seed = pick(rand, seeds);
  const sameFormat = seeds.filter((s) => s.format === seed.format && s !== seed);
  const donor = sameFormat.length ? pick(rand, sameFormat).bytes : seed.bytes;
  const table = FAMILIES[seed.format];
  const mutation = pick(rand, Object.keys(table));
  let data = table[mutation](seed.bytes, rand, donor);
  // A second, generic mutation on top now and then: damage rarely comes alone.
  if (rand() < 0.1) data = bitflip(data.length > 8 ? data : seed.bytes, rand);
  return { family: `${seed.format}:${mutation}`, data };
}

/** For tests: the segment ids of a file, to check a mutation did what it says. */
export function segmentIds(format: ImageFormat, b: Buffer): string[] {
  return segmentsOf(format, b).map((s) => s.id);
}
