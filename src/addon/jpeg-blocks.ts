// JPEG block copying (native/src/jpeg_blocks.cc, libjpeg-turbo): a JPEG keeps every DCT block no
// blurred region touches. Available when the addon loaded and was built with libjpeg-turbo; otherwise
// the encoder re-encodes whole photos as before, and this module says why, once, in the log.
import { isMainThread } from 'node:worker_threads';
import type { NativeOps } from './native.js';
import type { JpegBlocksOutcome, JpegBlocksRequest, JpegBlocksSupport } from './types.js';
import { validateJpegBlocksArgs } from './validate.js';

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
