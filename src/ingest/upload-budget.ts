import { errors } from '../errors.js';

/** One body's share of the budget, charged as its bytes arrive. */
export interface BodyAllowance {
  /** Charges `bytes` more; throws SERVER_BUSY (503 with Retry-After) when the node's budget is full. */
  take(bytes: number): void;
  /** Gives back everything taken; a second call is a no-op. */
  release(): void;
}

/**
 * Upload bytes this node holds at once: HTTP bodies by the bytes received so far, WebSocket
 * frames by their size. Together with the per-request limits it bounds the memory uploads can
 * hold, whatever the number of clients. Bodies are charged as bytes arrive, not by what they
 * declare, so a socket that announces 50 MB and trickles costs only what it has sent.
 */
export class UploadBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** A release function, or SERVER_BUSY (503 with Retry-After). For bytes already in memory. */
  reserve(bytes: number): () => void {
    const allowance = this.open(0);
    allowance.take(bytes);
    return () => allowance.release();
  }

  /**
   * A body about to arrive. SERVER_BUSY at once when its declared size (0 when unknown) does not
   * fit beside the bytes already held: reading it would most likely end in a 503 mid-body.
   */
  open(declared: number): BodyAllowance {
    if (this.used + declared > this.limit || (declared === 0 && this.used >= this.limit)) throw errors.serverBusy(this.limit, 1);
    let taken = 0;
    let released = false;
    return {
      take: (bytes) => {
        if (released) return;
        if (this.used + bytes > this.limit) throw errors.serverBusy(this.limit, 1);
        this.used += bytes;
        taken += bytes;
      },
      release: () => {
        if (released) return;
        released = true;
        this.used -= taken;
      },
    };
  }

  get inUse(): number {
    return this.used;
  }
}
