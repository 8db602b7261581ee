// The tracker a video job runs (src/video/tracking/): how far it looks ahead and how long a track
// survives misses, from the job's detect_every.
import { LookaheadTracker, type FrameBox, type TrackerOptions, type TrackRecord } from './tracking/index.js';

export type { FrameBox, TrackRecord };

/** What a video job needs of a tracker (LookaheadTracker; a test may hand in another). */
export type FrameTracker = Pick<LookaheadTracker, 'push' | 'flush' | 'tracks'>;

/**
 * Look-ahead and misses grow with detect_every so a track spans the frames between two detection
 * passes (and one missed pass) with room left; each held frame is width × height × 3 bytes, so the
 * window is also the job's memory: 8 frames at 1080p is 50 MB.
 */
export function trackerOptionsFor(detectEvery: number, frameWidth: number, frameHeight: number): TrackerOptions {
  return { lookahead: Math.max(8, 2 * detectEvery), maxMisses: Math.max(8, 2 * detectEvery), iouThreshold: 0.3, detectEvery, frameWidth, frameHeight };
}

/** The frame size lets the tracker clip carried boxes and end a track that leaves the picture. */
export function createTracker(detectEvery: number, frameWidth: number, frameHeight: number): FrameTracker {
  return new LookaheadTracker(trackerOptionsFor(detectEvery, frameWidth, frameHeight));
}
