import zlib from 'node:zlib';

/** Why an archive could not give up the file asked for. */
export class TarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarError';
  }
}

function field(block: Buffer, start: number, length: number): string {
  const raw = block.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function octal(block: Buffer, start: number, length: number): number {
  // GNU base-256 for sizes ≥ 8 GiB: high bit of the first byte set.
  if (block[start] & 0x80) {
    let v = 0;
    for (let i = start + 1; i < start + length; i++) v = v * 256 + block[i];
    return v;
  }
  const text = field(block, start, length).trim();
  return text ? parseInt(text, 8) : 0;
}

/**
 * One regular file out of a tar (ustar, GNU long names, pax `path`), gunzipped first when the data
 * starts with the gzip magic. Enough for npm tarballs; no links, no writing to disk.
 */
export function extractFromTar(archive: Buffer, wanted: string): Buffer {
  const tar = archive[0] === 0x1f && archive[1] === 0x8b ? zlib.gunzipSync(archive) : archive;
  const names: string[] = [];
  let longName: string | undefined;
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
    if (sum !== octal(header, 148, 8)) throw new TarError(`Corrupt tar header at byte ${offset} (checksum mismatch)`);
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] || 48);
    const body = tar.subarray(offset + 512, offset + 512 + size);
    if (body.length < size) throw new TarError(`Truncated tar: entry at byte ${offset} needs ${size} bytes`);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    if (type === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
      if (m) longName = m[1];
      continue;
    }
    const prefix = field(header, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = undefined;
    if (type !== '0' && type !== '7') continue;
    names.push(name);
    if (name.replace(/^\.\//, '') === wanted) return Buffer.from(body);
  }
  const shown = names.slice(0, 20).join(', ');
  throw new TarError(`No file ${wanted} in the archive; it holds ${names.length} files${names.length ? `: ${shown}${names.length > 20 ? ', …' : ''}` : ''}`);
}
