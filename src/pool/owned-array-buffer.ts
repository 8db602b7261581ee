// Both directions of the pool transfer image bytes (main thread → pool thread and back); a
// transfer moves a whole ArrayBuffer, so both make one that holds exactly these bytes.

/** The bytes' own ArrayBuffer when they fill it; else a copy (pooled or sliced Buffers, SharedArrayBuffers). */
export function ownedArrayBuffer(bytes: Buffer): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return copy;
}
