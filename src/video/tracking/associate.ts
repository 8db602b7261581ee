// Links one frame's detections to the live tracks of their kind: greedy on overlap with each track's
// predicted box (best pairs first), then, for what is left, on centre distance, which still links a
// small fast box that has moved off its own predicted outline (a distant plate between passes, or
// one seen once, whose velocity is not known yet). The distance allowed grows with the frames since
// the track's last detection, as the object can have moved that much further.
import { centreDistance, iou, type Rect } from './rect.js';

/** Centre within this share of the predicted box's diagonal per frame since the last detection, for pairs with too little overlap. */
const MAX_CENTRE_DISTANCE_PER_FRAME = 0.5;
/** Sizes within this ratio of each other, for pairs matched by distance. */
const MAX_SIZE_RATIO = 2;

export interface Pair {
  track: number;
  detection: number;
}

function greedy(scores: Array<{ track: number; detection: number; score: number }>, usedTracks: Set<number>, usedDetections: Set<number>): Pair[] {
  const out: Pair[] = [];
  scores.sort((a, b) => b.score - a.score);
  for (const s of scores) {
    if (usedTracks.has(s.track) || usedDetections.has(s.detection)) continue;
    usedTracks.add(s.track);
    usedDetections.add(s.detection);
    out.push({ track: s.track, detection: s.detection });
  }
  return out;
}

/**
 * Pairs (indices into predicted and detected) of one kind; each track and detection in one pair at most.
 * predicted[t]: where track t may be (the best of them counts); gaps[t]: frames since its last detection.
 */
export function associate(predicted: Rect[][], gaps: number[], detected: Rect[], iouThreshold: number): Pair[] {
  const usedTracks = new Set<number>();
  const usedDetections = new Set<number>();
  const byOverlap: Array<{ track: number; detection: number; score: number }> = [];
  predicted.forEach((p, t) =>
    detected.forEach((d, i) => {
      const v = Math.max(...p.map((h) => iou(h, d)));
      if (v >= iouThreshold) byOverlap.push({ track: t, detection: i, score: v });
    }),
  );
  const pairs = greedy(byOverlap, usedTracks, usedDetections);
  const byDistance: Array<{ track: number; detection: number; score: number }> = [];
  predicted.forEach((hypotheses, t) => {
    if (usedTracks.has(t)) return;
    detected.forEach((d, i) => {
      if (usedDetections.has(i)) return;
      const p = hypotheses[0];
      const ratio = Math.sqrt((p.width * p.height) / Math.max(1e-6, d.width * d.height));
      if (ratio > MAX_SIZE_RATIO || ratio < 1 / MAX_SIZE_RATIO) return;
      const distance = Math.min(...hypotheses.map((h) => centreDistance(h, d)));
      if (distance <= MAX_CENTRE_DISTANCE_PER_FRAME * gaps[t]) byDistance.push({ track: t, detection: i, score: -distance });
    });
  });
  return pairs.concat(greedy(byDistance, usedTracks, usedDetections));
}
