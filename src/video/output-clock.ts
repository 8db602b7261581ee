// Each written frame's Matroska timestamp, from its decoded time: counted from the first frame (the
// encoder's -itsoffset puts the video back at its offset in the file), always rising.

export class OutputClock {
  private first: number | undefined;
  private last = -1;

  /**
   * @param tickNs nanoseconds per timestamp tick (matroska-writer's tickNsFor)
   * @param frameSeconds how long a frame lasts when nothing says otherwise (1/average rate)
   */
  constructor(readonly tickNs: number, private readonly frameSeconds: number) {}

  /**
   * Ticks of the next frame, from its time in seconds; a frame without one (no pts, or the
   * decoder's listing ended early) comes one average frame after the one before, and a time at or
   * before the previous frame's (a broken file) one tick after it, so the encoder never sees
   * timestamps go back.
   */
  ticksFor(seconds: number | undefined): number {
    let ticks: number;
    if (seconds !== undefined && Number.isFinite(seconds)) {
      if (this.first === undefined) this.first = seconds;
      ticks = Math.round(((seconds - this.first) * 1e9) / this.tickNs);
    } else {
      ticks = this.last < 0 ? 0 : this.last + Math.max(1, Math.round((this.frameSeconds * 1e9) / this.tickNs));
    }
    if (ticks <= this.last) ticks = this.last + 1;
    this.last = ticks;
    return ticks;
  }

  /** Seconds from the first frame's time to the end of the last (which lasts frameSeconds); 0 before any frame. */
  durationSeconds(): number {
    return this.last < 0 ? 0 : (this.last * this.tickNs) / 1e9 + this.frameSeconds;
  }
}
