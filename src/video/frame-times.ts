// The presentation time of every frame the decoding ffmpeg emits, read from its second output:
// a `framecrc` listing (one line per frame, in the order the raw frames come out, each with its
// pts in the stream's own time base). Frame n's time pairs with frame n's pixels by position.
import type { Readable } from 'node:stream';
import type { TimeBase } from '../video-format.js';

export type { TimeBase };

/** `#tb 0: 1/10240`: the time base the listing's pts are in. */
const TIME_BASE_LINE = /^#tb 0: (\d+)\/(\d+)/;

/**
 * Collects the listing as it arrives (it is read at once, never paused: a line is a few dozen
 * bytes, the pts are held as numbers in one Float64Array, 8 bytes a frame).
 */
export class DecodedFrameTimes {
  private pts = new Float64Array(1024);
  private count = 0;
  private base: TimeBase | undefined;
  private ended = false;
  private waiting: Array<() => void> = [];

  constructor(listing: Readable) {
    let partial = '';
    listing.setEncoding('utf8');
    listing.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) this.take(line);
      this.wake();
    });
    const end = () => {
      if (partial) this.take(partial);
      partial = '';
      this.ended = true;
      this.wake();
    };
    listing.once('end', end);
    listing.once('close', end);
    listing.once('error', end);
  }

  /** Seconds of frame `index` from the listing's time base, or undefined when the listing ended without it. */
  async secondsAt(index: number): Promise<number | undefined> {
    while (index >= this.count && !this.ended) await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (index >= this.count || !this.base) return undefined;
    return (this.pts[index] * this.base.num) / this.base.den;
  }

  private take(line: string): void {
    if (line.startsWith('#')) {
      const tb = TIME_BASE_LINE.exec(line);
      if (tb && Number(tb[1]) > 0 && Number(tb[2]) > 0) this.base = { num: Number(tb[1]), den: Number(tb[2]) };
      return;
    }
    // stream, dts, pts, duration, size, checksum
    const fields = line.split(',');
    if (fields.length < 3) return;
    const pts = Number(fields[2]);
    if (this.count === this.pts.length) {
      const grown = new Float64Array(this.pts.length * 2);
      grown.set(this.pts);
      this.pts = grown;
    }
    // A frame without a usable pts (NOPTS) is NaN here; the writer places it after the one before.
    this.pts[this.count++] = Number.isSafeInteger(pts) ? pts : NaN;
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}
