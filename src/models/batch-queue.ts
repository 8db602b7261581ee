export interface BatchQueueOptions {
  /** A group is flushed as soon as it holds this many items (BATCH_IMAGES). */
  maxItems: number;
  /** …or this long after its first item arrived, however few it holds (BATCH_WAIT_MS). */
  waitMs: number;
}

/**
 * Collects items by key (model + input shape) and hands each group to `flush` when it is full or
 * its first item has waited `waitMs`. Groups of different keys never mix and never wait on each other.
 */
export class BatchQueue<T> {
  private readonly groups = new Map<string, { items: T[]; timer: NodeJS.Timeout }>();

  constructor(
    private readonly options: BatchQueueOptions,
    private readonly flush: (key: string, items: T[]) => void,
  ) {
    if (!Number.isInteger(options.maxItems) || options.maxItems < 1) throw new RangeError(`Expected an integer of at least 1 for maxItems but received ${options.maxItems}`);
    if (!(options.waitMs >= 0)) throw new RangeError(`Expected a number of at least 0 for waitMs but received ${options.waitMs}`);
  }

  push(key: string, item: T): void {
    let group = this.groups.get(key);
    if (!group) {
      group = { items: [], timer: setTimeout(() => this.flushGroup(key), this.options.waitMs) };
      this.groups.set(key, group);
    }
    group.items.push(item);
    if (group.items.length >= this.options.maxItems) this.flushGroup(key);
  }

  /** Items waiting, over all groups. */
  get size(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.items.length;
    return n;
  }

  /** Flushes every group now. */
  flushAll(): void {
    for (const key of [...this.groups.keys()]) this.flushGroup(key);
  }

  /** Empties the queue without flushing: what waited is returned (shutdown fails it). */
  drain(): T[] {
    const items = [...this.groups.values()].flatMap((g) => {
      clearTimeout(g.timer);
      return g.items;
    });
    this.groups.clear();
    return items;
  }

  private flushGroup(key: string): void {
    const group = this.groups.get(key);
    if (!group) return;
    this.groups.delete(key);
    clearTimeout(group.timer);
    this.flush(key, group.items);
  }
}
