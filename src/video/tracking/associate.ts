// Links one frame's detections to the live tracks of their kind: greedy on overlap with each track's
// predicted box (best pairs first), then, for what is left, on centre distance, which still links a
// small fast box that has moved off its own predicted outline (a distant plate between passes, or
// one seen once, whose velocity is not known yet). The distance allowed grows with the frames since
// the track's last detection, as the object can have moved that much further.
import { centreDistance, iou, type Rect } from './rect.js';

/** Centre within this share of the predicted box's diagonal per frame since the last detection, for pairs with too little overlap. */
const MAX_CENTRE_DISTANCE_PER_FRAME = 0.5;
/** ...and never more than this many diagonals, however long the track has gone unseen: in a crowd a wider reach grabs a neighbour. */
const MAX_CENTRE_DISTANCE = 1.5;
/** Sizes within this ratio of each other, for pairs matched by distance. */
const MAX_SIZE_RATIO = 2;

export interface Pair {
  track: number;
  detection: number;
}

interface Scored extends Pair {
  score: number;
}

function greedy(scores: Scored[], usedTracks: Set<number>, usedDetections: Set<number>): Pair[] {
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

/** The area any detection that can pair with a track must touch: its hypotheses, widened by the distance gate. */
function reachOf(hypotheses: Rect[], gap: number): Rect {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const h of hypotheses) {
    const r = Math.min(MAX_CENTRE_DISTANCE, MAX_CENTRE_DISTANCE_PER_FRAME * gap) * Math.hypot(h.width, h.height);
    x0 = Math.min(x0, h.x - r);
    y0 = Math.min(y0, h.y - r);
    x1 = Math.max(x1, h.x + h.width + r);
    y1 = Math.max(y1, h.y + h.height + r);
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

const touches = (a: Rect, b: Rect) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/**
 * Pairs (indices into predicted and detected) of one kind; each track and detection in one pair at most.
 * predicted[t]: where track t may be (the best of them counts); gaps[t]: frames since its last detection.
 */
export function associate(predicted: Rect[][], gaps: number[], detected: Rect[], iouThreshold: number): Pair[] {
  const byOverlap: Scored[] = [];
  const byDistance: Scored[] = [];
  predicted.forEach((hypotheses, t) => {
    const reach = reachOf(hypotheses, gaps[t]);
    const first = hypotheses[0];
    const area = first.width * first.height;
    detected.forEach((d, i) => {
      // Most pairs in a crowd are far apart: one box test rules them out before any overlap is computed.
      if (!touches(reach, d)) return;
      let overlap = 0;
      let distance = Infinity;
      for (const h of hypotheses) {
        overlap = Math.max(overlap, iou(h, d));
        distance = Math.min(distance, centreDistance(h, d));
      }
      if (overlap >= iouThreshold) byOverlap.push({ track: t, detection: i, score: overlap });
      const ratio = Math.sqrt(area / Math.max(1e-6, d.width * d.height));
      if (ratio <= MAX_SIZE_RATIO && ratio >= 1 / MAX_SIZE_RATIO && distance <= Math.min(MAX_CENTRE_DISTANCE, MAX_CENTRE_DISTANCE_PER_FRAME * gaps[t])) byDistance.push({ track: t, detection: i, score: -distance });
    });
  });
  const usedTracks = new Set<number>();
  const usedDetections = new Set<number>();
  return greedy(byOverlap, usedTracks, usedDetections).concat(greedy(byDistance, usedTracks, usedDetections));
}
