import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import exifReader from 'exif-reader';
import sharp from 'sharp';
import { facesDir, readFixture } from '../../harness/fixtures.js';
import { containerSegments, withExifThumbnail } from '../../harness/segments.js';
import { startTestNode, waitForJob, type TestNode } from '../../harness/server.js';

// No fixture carries GPS, a thumbnail and XMP together, so the test writes them into a real
// photo: EXIF (camera, copyright, a free-text description, orientation 6, GPS) and XMP with sharp,
// then an EXIF thumbnail (a small copy of the unblurred photo) by hand (harness/segments.ts).
async function taggedPhoto(): Promise<{ bytes: Buffer; thumbnail: Buffer }> {
  const photo = readFixture(facesDir, 'uf_2.jpg');
  const thumbnail = await sharp(photo).resize(160).jpeg({ quality: 70 }).toBuffer();
  const tagged = await sharp(photo)
    .withExif({
      IFD0: { Make: 'TestCam', Model: 'TC-1', Artist: 'Jo Example', Copyright: '(c) Jo Example', ImageDescription: 'outside 12 Home Street', Orientation: '6' },
      IFD2: { DateTimeOriginal: '2024:05:01 10:11:12', ISOSpeedRatings: '200' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 1234/100', GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 3900/100' },
    })
    .withIccProfile('p3')
    .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>xmp-owner</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>')
    .jpeg({ quality: 92 })
    .toBuffer();
  return { bytes: withExifThumbnail(tagged, thumbnail), thumbnail };
}

describe('metadata=safe keeps camera, dates, artist, copyright and colour profile, and nothing that locates or shows the original', () => {
  let server: TestNode;
  let input: { bytes: Buffer; thumbnail: Buffer };

  async function run(query: string): Promise<Buffer> {
    const res = await fetch(`${server.url}/v1/images${query}`, { method: 'POST', body: new Uint8Array(input.bytes) });
    const body = await res.json();
    assert.equal(res.status, 202, JSON.stringify(body));
    const job = await waitForJob(server.url, body.job_id, 60_000);
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    return Buffer.from(await (await fetch(`${server.url}/v1/jobs/${job.job_id}/result`)).arrayBuffer());
  }

  before(async () => {
    server = await startTestNode({}, 'serve', { KEEP_METADATA: 'strip', POOL_THREADS: '1' });
    input = await taggedPhoto();
  });
  after(async () => server.close());

  test('the input really carries GPS, a thumbnail, XMP and ICC', async () => {
    const meta = await sharp(input.bytes).metadata();
    const exif = exifReader(meta.exif!);
    assert.ok(exif.GPSInfo?.GPSLatitude, 'GPS');
    assert.equal(exif.Thumbnail?.JPEGInterchangeFormatLength, input.thumbnail.length, 'thumbnail');
    assert.ok(input.bytes.includes(input.thumbnail), 'thumbnail bytes');
    assert.ok(meta.xmp && meta.icc, 'XMP and ICC');
  });

  for (const format of ['same', 'png', 'webp'] as const) {
    test(`format=${format}: safe EXIF and an sRGB profile are kept; GPS, thumbnail, XMP and free text are gone`, async () => {
      const output = await run(`?detect=faces&metadata=safe&format=${format}`);
      const segments = containerSegments(output);
      const expected = { same: ['APP1', 'APP2'], png: ['eXIf', 'iCCP'], webp: ['EXIF', 'ICCP'] }[format];
      for (const s of expected) assert.ok(segments.includes(s), `${s} in ${segments.join(',')}`);
      assert.ok(!segments.includes('XMP '), 'no WebP XMP chunk');
      const meta = await sharp(output).metadata();
      assert.equal(meta.xmp, undefined, 'no XMP');
      assert.ok(meta.icc, 'ICC profile');
      assert.equal(meta.orientation, 1, 'orientation reset');
      const exif = exifReader(meta.exif!);
      assert.equal(exif.Image?.Copyright, '(c) Jo Example');
      assert.equal(exif.Image?.Artist, 'Jo Example');
      assert.equal(exif.Image?.Make, 'TestCam');
      assert.equal(exif.Photo?.ISOSpeedRatings, 200);
      assert.equal(exif.GPSInfo, undefined, 'no GPS IFD');
      assert.equal(exif.Thumbnail, undefined, 'no thumbnail IFD');
      assert.equal(exif.Image?.ImageDescription, undefined, 'no free-text description');
      assert.ok(!output.includes(input.thumbnail.subarray(0, 64)), 'no thumbnail bytes');
      for (const text of ['Home Street', 'xmp-owner']) assert.ok(!output.includes(text), `no "${text}"`);
    });
  }

  test('metadata=strip (the KEEP_METADATA default here) keeps nothing; a bad value is a 400', async () => {
    const output = await run('?detect=faces');
    const meta = await sharp(output).metadata();
    assert.equal(meta.exif, undefined);
    assert.equal(meta.icc, undefined);
    assert.ok(!containerSegments(output).some((s) => ['APP1', 'APP2'].includes(s)));
    const res = await fetch(`${server.url}/v1/images?metadata=all`, { method: 'POST', body: new Uint8Array(input.bytes) });
    assert.equal(res.status, 400);
    assert.match((await res.json()).error.message, /Expected one of strip, safe for metadata but received "?all/);
  });
});
