import { errors } from '../errors.js';
import { readImageHeader, type HeaderLimits } from './image-header.js';

/** DECODE_PIXEL_BUDGET=0: this many pixels per pool thread (two 12 MP photos, or one 32 MP one, per thread). */
export const DECODE_PIXELS_PER_THREAD = 32_000_000;

/** The budget a node runs with: the setting, or per pool thread when it is 0, never under one MAX_PIXELS image. */
export function decodePixelBudgetOf(config: { decodePixelBudget: number; poolThreads: number; maxPixels: number }): number {
  return config.decodePixelBudget || Math.max(config.maxPixels, DECODE_PIXELS_PER_THREAD * config.poolThreads);
}

/** Builds the node's budget from its settings. */
export function decodeBudgetFromConfig(config: { decodePixelBudget: number; poolThreads: number; maxPixels: number; maxDimension: number }): DecodeBudget {
  return new DecodeBudget(decodePixelBudgetOf(config), { maxPixels: config.maxPixels, maxDimension: config.maxDimension });
}

/** Gives back what a reservation held; calling it twice gives back once. */
export type ReleasePixels = () => void;

/**
 * The node-wide budget of decoded pixels in flight (DECODE_PIXEL_BUDGET). Each job's pixel count is
 * read from its header before it goes to the pool; a job that does not fit waits, first come first
 * served, until earlier jobs give theirs back, so however many large images (or small files whose
 * headers claim large images) arrive at once, the decoders never hold more than the budget. A job
 * over the whole budget could never run and fails at once (IMAGE_TOO_LARGE), as one over MAX_PIXELS does.
 */
export class DecodeBudget {
  private inUse = 0;
  private readonly waiting: Array<{ pixels: number; grant: () => void }> = [];

  constructor(
    /** Decoded pixels allowed in flight on this node at once. */
    readonly capacity: number,
    private readonly limits: HeaderLimits,
  ) {}

  /** Pixels held by jobs in the pool now. */
  get pixelsInFlight(): number {
    return this.inUse;
  }

  /** Jobs waiting for pixels to free up. */
  get waitingJobs(): number {
    return this.waiting.length;
  }

  /** Reads the image's header and waits until its decoded pixels fit the budget. */
  async reserveFor(image: Buffer): Promise<ReleasePixels> {
    const header = await readImageHeader(image, this.limits);
    if (header.pixels > this.capacity) throw errors.overDecodeBudget(header.width, header.height, this.capacity);
    return this.acquire(header.pixels);
  }

  /** Waits until `pixels` fit (FIFO: a large job at the head is not overtaken for ever by small ones). */
  acquire(pixels: number): Promise<ReleasePixels> {
    if (pixels > this.capacity) return Promise.reject(new RangeError(`${pixels} pixels can never fit a budget of ${this.capacity}`));
    return new Promise((resolve) => {
      const grant = () => {
        this.inUse += pixels;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.inUse -= pixels;
          this.grantWaiting();
        });
      };
      this.waiting.push({ pixels, grant });
      this.grantWaiting();
    });
  }

  private grantWaiting(): void {
    while (this.waiting.length > 0 && this.inUse + this.waiting[0].pixels <= this.capacity) this.waiting.shift()!.grant();
  }
}
