// JPEG block copying (native/src/jpeg_blocks.cc, libjpeg-turbo): a JPEG keeps every DCT block no
// blurred region touches. Available when the addon loaded and was built with libjpeg-turbo; otherwise
// the encoder re-encodes whole photos as before, and this module says why, once, in the log.
import { isMainThread } from 'node:worker_threads';
import type { NativeOps } from './native.js';
import type { BlurRegion, RawImage } from './types.js';
import { validateJpegBlocksArgs } from './validate.js';

/** An APPn segment written after the file header (code 0xE0–0xEF), payload without marker and length. */
export interface JpegMarker {
  code: number;
  payload: Uint8Array;
}

export interface JpegBlocksRequest {
  /** The input JPEG, as uploaded. */
  jpeg: Uint8Array;
  /** Its decoded, blurred pixels at the JPEG's stored size and orientation. */
  image: RawImage;
  /** Every region whose pixels changed; the MCUs they touch are re-encoded from `image`. */
  regions: BlurRegion[];
  markers?: JpegMarker[];
}

export type JpegBlocksOutcome =
  | { kept: true; data: Buffer; mcusRewritten: number; mcusTotal: number }
  /** The input cannot keep its blocks (CMYK, 12-bit, corrupt data…): re-encode it whole. */
  | { kept: false; reason: string };

export interface JpegBlocksSupport {
  available: boolean;
  /** The library when available, else why not. */
  detail: string;
}

export interface JpegBlocks {
  support: JpegBlocksSupport;
  keep(request: JpegBlocksRequest): Promise<JpegBlocksOutcome>;
}

/** What index.ts knows: the native ops when the addon loaded, else why it did not. */
export function createJpegBlocks(native: NativeOps | undefined, whyNoNative: string): JpegBlocks {
  let support: JpegBlocksSupport;
  if (process.env.PIXVEIL_JPEG_BLOCKS === 'off') support = { available: false, detail: 'disabled by PIXVEIL_JPEG_BLOCKS=off' };
  else if (!native) support = { available: false, detail: whyNoNative };
  else {
    const built = native.jpegBlocksSupport();
    support = built.compiled
      ? { available: true, detail: built.library ?? 'libjpeg' }
      : { available: false, detail: 'the native addon was built without libjpeg-turbo: install libjpeg62-turbo-dev, then npm run build:native' };
  }
  // Without the addon, index.ts's own line has already said so; /v1/health carries the detail.
  if (!support.available && native && isMainThread) process.stderr.write(`pixveil: JPEG output is re-encoded whole, untouched blocks included (${support.detail})\n`);
  return {
    support,
    async keep(request: JpegBlocksRequest): Promise<JpegBlocksOutcome> {
      validateJpegBlocksArgs(request);
      if (!support.available || !native) return { kept: false, reason: support.detail };
      return native.keepJpegBlocks(request);
    },
  };
}
