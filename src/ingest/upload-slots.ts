import { errors } from '../errors.js';

/**
 * Counts uploads in progress (receiving, storing, enqueueing) per tenant, so one client
 * cannot hold every buffer and storage connection at once.
 */
export class UploadSlots {
  private readonly counts = new Map<string, number>();

  constructor(private readonly limit: number, private readonly scope: string) {}

  /** A release function, or TOO_MANY_UPLOADS (429). */
  acquire(owner: string): () => void {
    const used = this.counts.get(owner) ?? 0;
    if (used >= this.limit) throw errors.tooManyUploads(this.limit, this.scope);
    this.counts.set(owner, used + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(owner) ?? 1) - 1;
      if (left <= 0) this.counts.delete(owner);
      else this.counts.set(owner, left);
    };
  }

  inUse(owner: string): number {
    return this.counts.get(owner) ?? 0;
  }
}
