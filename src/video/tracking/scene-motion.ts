// How the whole scene moved between two detection passes, for tracks that have no velocity of their
// own yet. A panning camera moves every box alike; in a crowd under a fast pan, each face's nearest
// detection in the next pass can be its neighbour's, so linking by distance alone swaps identities
// and gives every track a wrong velocity. Instead: the velocity that lays the most boxes of the
// last pass onto the detections of this one (sum of best overlaps), tried from candidate moves of a
// sample of boxes. Once tracks have velocities of their own, their median is used instead.
import { extrapolate, STILL, type Velocity } from './motion.js';
import { centreDistance, iou, type Rect } from './rect.js';

/** Boxes whose candidate moves are tried (the largest: their overlaps say most). */
const SAMPLE = 16;
/** A box may have moved this many of its diagonals per frame. */
const MAX_MOVE_PER_FRAME = 1;
/** The best move must lay boxes on detections this much better than standing still. */
const MIN_GAIN = 1.25;

export interface LastBox {
  box: Rect;
  /** Frames since that box was detected. */
  gap: number;
}

/** The scene's velocity from boxes of earlier passes onto this pass's detections, or null when standing still fits as well. */
export function estimateSceneVelocity(last: LastBox[], detected: Rect[]): Velocity | null {
  if (last.length < 3 || detected.length < 3) return null;
  const sample = [...last].sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height).slice(0, SAMPLE);
  // Each sampled box can only land on detections within its reach (plus its own size): found once, not per candidate.
  const near = sample.map((s) => detected.filter((d) => centreDistance(s.box, d) <= MAX_MOVE_PER_FRAME * s.gap + 1));
  const fit = (v: Velocity) => {
    let sum = 0;
    sample.forEach((s, k) => {
      const moved = extrapolate(s.box, v, s.gap);
      let best = 0;
      for (const d of near[k]) best = Math.max(best, iou(moved, d));
      sum += best;
    });
    return sum;
  };
  const still = fit(STILL);
  let best: { v: Velocity; score: number } | null = null;
  for (const [k, s] of sample.entries()) {
    for (const d of near[k]) {
      if (centreDistance(s.box, d) > MAX_MOVE_PER_FRAME * s.gap) continue;
      const v: Velocity = {
        cx: (d.x + d.width / 2 - (s.box.x + s.box.width / 2)) / s.gap,
        cy: (d.y + d.height / 2 - (s.box.y + s.box.height / 2)) / s.gap,
        width: 0,
        height: 0,
      };
      const score = fit(v);
      if (!best || score > best.score) best = { v, score };
    }
  }
  return best && best.score > still * MIN_GAIN ? best.v : null;
}
