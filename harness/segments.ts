// Reads image containers back segment by segment, for the tests that check what metadata an output carries.

/** Names of the metadata-capable segments of a JPEG, PNG or WebP file. */
export function containerSegments(file: Buffer): string[] {
  const names: string[] = [];
  if (file[0] === 0xff && file[1] === 0xd8) {
    const markers: Record<number, string> = { 0xe1: 'APP1', 0xe2: 'APP2', 0xed: 'APP13', 0xfe: 'COM' };
    for (let i = 2; i + 4 <= file.length && file[i] === 0xff && file[i + 1] !== 0xda; ) {
      names.push(markers[file[i + 1]] ?? `0x${file[i + 1].toString(16)}`);
      i += 2 + file.readUInt16BE(i + 2);
    }
  } else if (file.subarray(1, 4).toString('latin1') === 'PNG') {
    for (let i = 8; i + 8 <= file.length; i += 12 + file.readUInt32BE(i)) names.push(file.subarray(i + 4, i + 8).toString('latin1'));
  } else if (file.subarray(8, 12).toString('latin1') === 'WEBP') {
    for (let i = 12; i + 8 <= file.length; i += 8 + file.readUInt32LE(i + 4) + (file.readUInt32LE(i + 4) % 2)) names.push(file.subarray(i, i + 4).toString('latin1'));
  }
  return names;
}

/**
 * Adds an EXIF thumbnail (IFD1 with JPEGInterchangeFormat) to a JPEG whose first APP1 is EXIF,
 * as cameras write one: sharp and libvips cannot write thumbnails, and no fixture has one.
 */
export function withExifThumbnail(jpeg: Buffer, thumbnail: Buffer): Buffer {
  let at = 2;
  while (!(jpeg[at + 1] === 0xe1 && jpeg.subarray(at + 4, at + 10).toString('latin1') === 'Exif\0\0')) {
    if (jpeg[at] !== 0xff || jpeg[at + 1] === 0xda) throw new Error('no EXIF APP1 segment');
    at += 2 + jpeg.readUInt16BE(at + 2);
  }
  const end = at + 2 + jpeg.readUInt16BE(at + 2);
  const tiff = Buffer.from(jpeg.subarray(at + 10, end));
  const le = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (o: number) => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const u32 = (o: number) => (le ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o));
  const ifd0 = u32(4);
  const nextAt = ifd0 + 2 + 12 * u16(ifd0);
  const ifd1 = tiff.length + (tiff.length % 2);
  const ifd = Buffer.alloc(2 + 2 * 12 + 4);
  const w16 = (b: Buffer, v: number, o: number) => (le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  const w32 = (b: Buffer, v: number, o: number) => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  w16(ifd, 2, 0);
  for (const [i, [tag, value]] of ([[0x0201, ifd1 + ifd.length], [0x0202, thumbnail.length]] as const).entries()) {
    w16(ifd, tag, 2 + i * 12);
    w16(ifd, 4, 4 + i * 12); // LONG
    w32(ifd, 1, 6 + i * 12);
    w32(ifd, value, 10 + i * 12);
  }
  w32(tiff, ifd1, nextAt);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff, Buffer.alloc(ifd1 - tiff.length), ifd, thumbnail]);
  const header = Buffer.from([0xff, 0xe1, 0, 0]);
  header.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, at), header, body, jpeg.subarray(end)]);
}
