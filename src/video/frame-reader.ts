import type { Readable } from 'node:stream';

/**
 * Cuts a byte stream of packed frames into one fresh ArrayBuffer per frame (each owns its memory,
 * so it can be transferred to a pool thread). Reading pauses while the consumer works, so ffmpeg
 * stops decoding ahead: memory stays at the frames in flight.
 */
export async function* readFrames(stream: Readable, frameBytes: number): AsyncGenerator<ArrayBuffer> {
  let frame = new ArrayBuffer(frameBytes);
  let view = new Uint8Array(frame);
  let filled = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(frameBytes - filled, chunk.length - offset);
      view.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === frameBytes) {
        yield frame;
        frame = new ArrayBuffer(frameBytes);
        view = new Uint8Array(frame);
        filled = 0;
      }
    }
  }
  // A partial frame at the end (a decoder cut short) is not a frame: the decoder's exit says why.
}
