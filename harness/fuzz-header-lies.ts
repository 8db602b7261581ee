import sharp from 'sharp';
import { pngChunk } from './fuzz-images.js';
import { jpegWithDeclaredSize } from './hostile-files.js';

// Header-lie bombs: tiny real images (16×16 of data) whose headers claim a huge size. The decoder
// allocates what the header says before it finds the data missing, so each one costs a full-size
// decode (issue 21: a 267-byte JPEG claiming 10000×10000 decoded 100 MP, +530 MB RSS). Used by
// bench/fuzz.ts (8 at once, RSS bound) and test/integration/decode-budget.test.ts.

export interface HeaderLie {
  /** `<format>:<width>x<height>` as the header claims it. */
  name: string;
  format: 'jpeg' | 'png' | 'webp';
  width: number;
  height: number;
  bytes: Buffer;
}

const tiny = () => sharp({ create: { width: 16, height: 16, channels: 3, background: '#6a8' } });

/** A 16×16 PNG whose IHDR claims width×height (CRC fixed, so only the size lies). */
function pngLie(png: Buffer, width: number, height: number): Buffer {
  // Signature (8), IHDR length + type (8), then the 13 IHDR bytes and their CRC.
  const ihdr = Buffer.from(png.subarray(16, 29));
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  return Buffer.concat([png.subarray(0, 8), pngChunk('IHDR', ihdr), png.subarray(33)]);
}

/** A 16×16 lossy WebP whose VP8 frame header claims width×height (14 bits each, scale bits 0). */
function webpLie(webp: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(webp);
  for (let i = 12; i + 8 <= out.length; ) {
    const id = out.toString('latin1', i, i + 4);
    const length = out.readUInt32LE(i + 4);
    if (id === 'VP8 ') {
      // 3-byte frame tag, start code 9d 01 2a, then width and height.
      out.writeUInt16LE(width & 0x3fff, i + 8 + 6);
      out.writeUInt16LE(height & 0x3fff, i + 8 + 8);
      return out;
    }
    if (id === 'VP8X') {
      out.writeUIntLE(width - 1, i + 8 + 4, 3);
      out.writeUIntLE(height - 1, i + 8 + 7, 3);
    }
    i += 8 + length + (length & 1);
  }
  throw new Error('no VP8 chunk found');
}

/** One header-lie bomb per format at each claimed size (WebP sides are capped at its 16383). */
export async function headerLies(sizes: ReadonlyArray<readonly [number, number]>): Promise<HeaderLie[]> {
  const jpeg = await tiny().jpeg({ quality: 80 }).toBuffer();
  const png = await tiny().png().toBuffer();
  const webp = await tiny().webp({ quality: 80 }).toBuffer();
  const out: HeaderLie[] = [];
  for (const [width, height] of sizes) {
    out.push({ name: `jpeg:${width}x${height}`, format: 'jpeg', width, height, bytes: jpegWithDeclaredSize(jpeg, width, height) });
    out.push({ name: `png:${width}x${height}`, format: 'png', width, height, bytes: pngLie(png, width, height) });
    const [w, h] = [Math.min(width, 16_383), Math.min(height, 16_383)];
    out.push({ name: `webp:${w}x${h}`, format: 'webp', width: w, height: h, bytes: webpLie(webp, w, h) });
  }
  return out;
}

export interface BurstReport {
  /** Server RSS before the burst, at its peak while the jobs ran, and when the last one finished. */
  beforeMiB: number;
  peakMiB: number;
  afterMiB: number;
  /** name → `completed` or `failed <CODE>` (or the upload's refusal). */
  outcomes: Record<string, string>;
  seconds: number;
}

async function finished(url: string, id: string, deadline: number): Promise<{ status: string; error?: { code: string } } | undefined> {
  while (Date.now() < deadline) {
    const res = await fetch(`${url}/v1/jobs/${id}?wait=20s`, { signal: AbortSignal.timeout(30_000) });
    const body = (await res.json()) as { status: string; error?: { code: string } };
    if (body.status === 'completed' || body.status === 'failed') return body;
  }
  return undefined;
}

/** Uploads every image at once and waits for every job, sampling the server's RSS every 100 ms. */
export async function headerLieBurst(url: string, images: HeaderLie[], rssMiB: () => number, timeoutMs = 300_000): Promise<BurstReport> {
  const started = Date.now();
  const beforeMiB = rssMiB();
  let peakMiB = beforeMiB;
  const sampler = setInterval(() => {
    try {
      peakMiB = Math.max(peakMiB, rssMiB());
    } catch {
      // the process is gone; the caller sees it
    }
  }, 100);
  const outcomes: Record<string, string> = {};
  try {
    await Promise.all(
      images.map(async (image, i) => {
        const key = `${image.name}#${i}`;
        const res = await fetch(`${url}/v1/images`, { method: 'POST', body: new Uint8Array(image.bytes), headers: { 'content-type': 'application/octet-stream' } });
        const body = (await res.json()) as { job_id?: string; error?: { code: string } };
        if (!body.job_id) {
          outcomes[key] = `refused ${res.status} ${body.error?.code}`;
          return;
        }
        const job = await finished(url, body.job_id, started + timeoutMs);
        outcomes[key] = !job ? 'timeout' : job.status === 'completed' ? 'completed' : `failed ${job.error?.code}`;
      }),
    );
  } finally {
    clearInterval(sampler);
  }
  peakMiB = Math.max(peakMiB, rssMiB());
  return { beforeMiB, peakMiB, afterMiB: rssMiB(), outcomes, seconds: (Date.now() - started) / 1000 };
}
