import { errors } from '../errors.js';

/**
 * Upload bytes this node is receiving at once (HTTP bodies by their declared or largest
 * possible size, WebSocket frames by theirs). Together with the per-request limits it bounds
 * the memory uploads can hold, whatever the number of clients.
 */
export class UploadBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** A release function, or SERVER_BUSY (503 with Retry-After). */
  reserve(bytes: number): () => void {
    if (this.used + bytes > this.limit) throw errors.serverBusy(this.limit, 1);
    this.used += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
    };
  }

  get inUse(): number {
    return this.used;
  }
}
