/**
 * Collects a request body chunk by chunk. uWS reuses each chunk's memory after the callback,
 * so bytes are copied in once; with a Content-Length the buffer is allocated exactly once,
 * otherwise it doubles (never Buffer.concat per chunk, which is quadratic).
 */
export class UploadBuffer {
  private buffer: Buffer;
  private length = 0;

  constructor(private readonly limit: number, expected?: number) {
    // Own ArrayBuffer (not Node's shared pool) so the bytes can later be transferred to a thread.
    this.buffer = Buffer.allocUnsafeSlow(Math.max(1, Math.min(expected ?? 64 * 1024, limit)));
  }

  /** false when the body would exceed the limit; nothing is appended then. */
  append(chunk: ArrayBuffer): boolean {
    const size = chunk.byteLength;
    if (this.length + size > this.limit) return false;
    if (this.length + size > this.buffer.length) {
      const grown = Buffer.allocUnsafeSlow(Math.min(this.limit, Math.max(this.length + size, this.buffer.length * 2)));
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

  /** The bytes received; no copy when the Content-Length was exact. */
  bytes(): Buffer {
    return this.length === this.buffer.length ? this.buffer : this.buffer.subarray(0, this.length);
  }
}
