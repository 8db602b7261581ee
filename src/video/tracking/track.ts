// One object followed across frames: the detections linked to it, its velocity, and the box it has
// in any frame near them (detected, interpolated between two detections, or predicted past either end).
import { extrapolate, smooth, STILL, velocityBetween, type Velocity } from './motion.js';
import { lerp, type Rect } from './rect.js';

export interface Observation {
  frame: number;
  box: Rect;
  score: number;
}

export type BoxSource = 'detected' | 'interpolated' | 'predicted';

export interface PlacedBox {
  box: Rect;
  source: BoxSource;
  /** Frames to the nearest detection of this track (0 when detected): how uncertain the box is. */
  distance: number;
  score: number;
}

/** Weight of the newest measurement in the running velocity. */
const VELOCITY_WEIGHT = 0.5;

export class Track {
  /** Recent detections in frame order; older ones are dropped once no held frame needs them. */
  private observations: Observation[] = [];
  /** The first two detections, kept for predicting backwards from the first one. */
  private readonly first: Observation;
  private second: Observation | null = null;
  private velocity: Velocity = STILL;
  hits = 0;
  confirmed = false;
  /** No longer matched to new detections; still places boxes in frames it covers. */
  ended = false;

  constructor(
    readonly id: number,
    readonly kind: string,
    readonly label: string | undefined,
    observation: Observation,
  ) {
    this.first = observation;
    this.add(observation);
  }

  get last(): Observation {
    return this.observations[this.observations.length - 1];
  }

  get firstFrame(): number {
    return this.first.frame;
  }

  add(observation: Observation): void {
    const previous = this.observations.length ? this.last : null;
    this.observations.push(observation);
    this.hits++;
    if (!previous) return;
    if (!this.second) this.second = observation;
    const measured = velocityBetween(previous.box, previous.frame, observation.box, observation.frame);
    this.velocity = this.hits === 2 ? measured : smooth(this.velocity, measured, VELOCITY_WEIGHT);
  }

  /** Its own velocity once it has two detections; null before. */
  get measuredVelocity(): Velocity | null {
    return this.hits >= 2 ? this.velocity : null;
  }

  /**
   * Where the track may be in `frame` (after its last detection), for matching: moved by its own
   * velocity; a track seen once has none yet, so it is tried both where it was and moved as `scene` moves.
   */
  predict(frame: number, scene: Velocity | null): Rect[] {
    const gap = frame - this.last.frame;
    if (this.hits >= 2 || !scene) return [extrapolate(this.last.box, this.velocity, gap)];
    return [this.last.box, extrapolate(this.last.box, scene, gap)];
  }

  /**
   * The track's box in `frame`, or null where it has none. Unconfirmed tracks (one low-score hit)
   * have boxes only where they were detected, so a lone false positive is not carried on.
   * `coast` is how many frames past the last detection a box is predicted, `back` how many before the first.
   */
  boxAt(frame: number, coast: number, back: number): PlacedBox | null {
    let next = -1;
    for (let i = 0; i < this.observations.length; i++) {
      if (this.observations[i].frame >= frame) {
        next = i;
        break;
      }
    }
    const after = next >= 0 ? this.observations[next] : null;
    if (after && after.frame === frame) return { box: after.box, source: 'detected', distance: 0, score: after.score };
    if (!this.confirmed) return null;
    const before = next === -1 ? this.last : next > 0 ? this.observations[next - 1] : null;
    if (before && after) {
      const t = (frame - before.frame) / (after.frame - before.frame);
      const distance = Math.min(frame - before.frame, after.frame - frame);
      return { box: lerp(before.box, after.box, t), source: 'interpolated', distance, score: Math.min(before.score, after.score) };
    }
    if (before) {
      const distance = frame - before.frame;
      if (distance > coast) return null;
      return { box: extrapolate(before.box, this.velocity, distance), source: 'predicted', distance, score: before.score };
    }
    // Before the first detection: the object was most likely there already, moving as it did next.
    const distance = this.first.frame - frame;
    if (distance > back) return null;
    const early = this.second ? velocityBetween(this.first.box, this.first.frame, this.second.box, this.second.frame) : STILL;
    return { box: extrapolate(this.first.box, early, -distance), source: 'predicted', distance, score: this.first.score };
  }

  /** Drops detections no frame from `frame` on needs: all before it but the last one. */
  forgetBefore(frame: number): void {
    let keepFrom = 0;
    while (keepFrom + 1 < this.observations.length && this.observations[keepFrom + 1].frame <= frame) keepFrom++;
    if (keepFrom > 0) this.observations = this.observations.slice(keepFrom);
  }
}
