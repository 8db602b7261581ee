/** First allocation for a body; it grows by doubling (up to the declared size) as bytes arrive. */
const INITIAL_BYTES = 256 * 1024;

/**
 * Collects a request body chunk by chunk. uWS reuses each chunk's memory after the callback,
 * so bytes are copied in once. The buffer grows with what arrived (doubling, never
 * Buffer.concat per chunk, which is quadratic), so a body that declares 50 MB and trickles holds
 * at most twice what it sent (or 256 KiB), and the upload budget is charged for what it holds; with a Content-Length the last step lands
 * on exactly that size. While one buffer is copied into the next, both are alive (up to three times what
 * arrived, for that moment): the budget counts only the one that stays.
 */
export class UploadBuffer {
  private buffer: Buffer;
  private length = 0;
  private readonly cap: number;

  /** `charge` is told of every allocation's size before it is made, and may throw to refuse it. */
  constructor(private readonly limit: number, expected?: number, private readonly charge: (bytes: number) => void = () => {}) {
    this.cap = Math.max(1, Math.min(expected ?? limit, limit));
    const first = Math.min(this.cap, INITIAL_BYTES);
    charge(first);
    // Own ArrayBuffer (not Node's shared pool) so the bytes can later be transferred to a thread.
    this.buffer = Buffer.allocUnsafeSlow(first);
  }

  /** false when the body would exceed the limit; nothing is appended then (nor when `charge` throws). */
  append(chunk: ArrayBuffer): boolean {
    const size = chunk.byteLength;
    if (this.length + size > this.limit) return false;
    if (this.length + size > this.buffer.length) {
      const wanted = Math.max(this.length + size, Math.min(this.cap, this.buffer.length * 2));
      const size2 = Math.min(this.limit, wanted);
      this.charge(size2 - this.buffer.length);
      const grown = Buffer.allocUnsafeSlow(size2);
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    Buffer.from(chunk).copy(this.buffer, this.length);
    this.length += size;
    return true;
  }

  get size(): number {
    return this.length;
  }

  /** The bytes received; no copy when the buffer's size is exactly what arrived. */
  bytes(): Buffer {
    return this.length === this.buffer.length ? this.buffer : this.buffer.subarray(0, this.length);
  }
}
