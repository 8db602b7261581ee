import zlib from 'node:zlib';
import sharp from 'sharp';

/** Deterministic PRNG (mulberry32) so corpus and fuzz runs repeat exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(rand: () => number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/**
 * A PNG whose header declares width×height (RGBA, 8-bit) with an IDAT of `zeroBytes` deflated
 * zeros: a few KB on the wire that would inflate towards width*height*4 bytes. No pixels are
 * allocated here.
 */
export function pngWithDeclaredSize(width: number, height: number, zeroBytes = 1 << 20): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  const idat = zlib.deflateSync(Buffer.alloc(zeroBytes), { level: 9 });
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A real JPEG with its SOF frame header rewritten to declare width×height (≤ 65535). */
export function jpegWithDeclaredSize(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  for (let i = 2; i < out.length - 9; ) {
    if (out[i] !== 0xff) throw new Error('not a JPEG marker stream');
    const marker = out[i + 1];
    const length = out.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      out.writeUInt16BE(height, i + 5);
      out.writeUInt16BE(width, i + 7);
      return out;
    }
    i += 2 + length;
  }
  throw new Error('no SOF marker found');
}

/** A PNG that is valid and decodes to width×height of zeros: high-ratio compression within the limits. */
export function zeroPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 0;
  const rows = Buffer.alloc((width + 1) * height);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', zlib.deflateSync(rows, { level: 9 })), pngChunk('IEND', Buffer.alloc(0))]);
}

/** `GIF89a` that is also a script: a classic upload-filter bypass. */
export const gifJsPolyglot = Buffer.from('GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;alert(document.domain);//;', 'latin1');

export const htmlTail = Buffer.from('<html><script>alert(document.cookie)</script></html>');

/** A minimal zip (empty archive end record, preceded by a local file header) to glue after an image. */
export const zipTail = Buffer.concat([
  Buffer.from('PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00evil!', 'latin1'),
  Buffer.from('PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00', 'latin1'),
]);

/** multipart/form-data whose "file" part holds multipart/mixed nested `depth` levels deep. */
export function nestedMultipart(depth: number): { body: Buffer; contentType: string } {
  let inner = 'innermost payload';
  for (let d = depth; d > 0; d--) {
    const b = `nest${d}`;
    inner = `--${b}\r\nContent-Type: multipart/mixed; boundary=nest${d + 1}\r\n\r\n${inner}\r\n--${b}--\r\n`;
  }
  const outer = 'outerboundary';
  const body = `--${outer}\r\nContent-Disposition: form-data; name="file"; filename="nested.jpg"\r\nContent-Type: multipart/mixed; boundary=nest1\r\n\r\n${inner}\r\n--${outer}--\r\n`;
  return { body: Buffer.from(body), contentType: `multipart/form-data; boundary=${outer}` };
}

/** multipart/form-data with `count` tiny file parts. */
export function manyParts(count: number, field = 'files'): { body: Buffer; contentType: string } {
  const b = 'manyparts';
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(`--${b}\r\nContent-Disposition: form-data; name="${field}"; filename="p${i}.jpg"\r\nContent-Type: image/jpeg\r\n\r\nx\r\n`);
  parts.push(`--${b}--\r\n`);
  return { body: Buffer.from(parts.join('')), contentType: `multipart/form-data; boundary=${b}` };
}

/** A small real photo, for corpora that need many decodes. */
export async function smallCopy(photo: Buffer, format: 'jpeg' | 'png', width = 320): Promise<Buffer> {
  const resized = sharp(photo).rotate().resize({ width });
  return format === 'jpeg' ? resized.jpeg({ quality: 80 }).toBuffer() : resized.png().toBuffer();
}

export type Mutation = 'bitflip' | 'truncate' | 'duplicate' | 'overwrite' | 'splice-length';

/** One random mutation of `input` (never the first two bytes for bit flips, so most stay sniffable). */
export function mutate(input: Buffer, rand: () => number): { data: Buffer; mutation: Mutation } {
  const pick = Math.floor(rand() * 5);
  const at = (min = 0) => min + Math.floor(rand() * (input.length - min));
  switch (pick) {
    case 0: {
      const out = Buffer.from(input);
      const flips = 1 + Math.floor(rand() * 32);
      for (let i = 0; i < flips; i++) out[at(4)] ^= 1 << Math.floor(rand() * 8);
      return { data: out, mutation: 'bitflip' };
    }
    case 1:
      return { data: input.subarray(0, at(8)), mutation: 'truncate' };
    case 2: {
      const start = at();
      const len = Math.min(input.length - start, 1 + Math.floor(rand() * 4096));
      const dest = at();
      return { data: Buffer.concat([input.subarray(0, dest), input.subarray(start, start + len), input.subarray(dest)]), mutation: 'duplicate' };
    }
    case 3: {
      const out = Buffer.from(input);
      const start = at(4);
      const value = rand() < 0.5 ? 0xff : 0x00;
      out.fill(value, start, Math.min(out.length, start + 1 + Math.floor(rand() * 256)));
      return { data: out, mutation: 'overwrite' };
    }
    default: {
      // Big-endian 16/32-bit length fields (JPEG segments, PNG chunks) set to extreme values.
      const out = Buffer.from(input);
      const pos = at(8);
      if (pos + 4 <= out.length) out.writeUInt32BE(rand() < 0.5 ? 0xffffffff : Math.floor(rand() * 0x7fffffff), pos);
      return { data: out, mutation: 'splice-length' };
    }
  }
}
