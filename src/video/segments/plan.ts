// Where a long video is cut: nominal boundaries every VIDEO_SEGMENT_SECONDS of presentation time
// from its first frame. Each segment writes the frames whose pts lie in its window, exactly once;
// its piece of the input reaches `overlapSeconds` further on both sides (from the keyframe at or
// before), so the tracker sees the frames across each boundary; frames of the piece before the
// overlap (back to its keyframe) are decoded only, never detected or tracked.
import type { FrameWindow } from '../process-video.js';
import type { VideoInfo } from '../probe.js';

export interface SegmentPlan extends FrameWindow {
  index: number;
  /** Pts of the frame the overlap before its window starts at: the first its tracker sees. */
  trackFromTicks: number;
  /** Index of its first frame in the whole video, and how many it writes. */
  firstFrame: number;
  frames: number;
  /** Pts (ticks) of its first frame: where it starts in the joined output. */
  firstPts: number;
  /** Where its piece is cut from the input: seconds after the file's start (ffmpeg -ss) and how long (-t; null: to the end). */
  cutFromSeconds: number;
  cutSeconds: number | null;
}

/** Segments of a video whose sorted frame pts are `pts`; one segment when it is not longer than `segmentSeconds`. */
export function planSegments(pts: readonly number[], info: VideoInfo, segmentSeconds: number, overlapSeconds: number): SegmentPlan[] {
  const { num, den } = info.timeBase;
  const seconds = (ticks: number) => (ticks * num) / den;
  const first = pts[0];
  const boundary = (n: number) => first + Math.round((n * segmentSeconds * den) / num);
  const groups: Array<{ n: number; start: number; end: number }> = [];
  for (let i = 0; i < pts.length; i++) {
    // A frame belongs to the last boundary at or before it, as boundaries are rounded to ticks.
    let n = Math.floor(((pts[i] - first) * num) / (den * segmentSeconds));
    while (n > 0 && boundary(n) > pts[i]) n--;
    while (boundary(n + 1) <= pts[i]) n++;
    const last = groups.at(-1);
    if (last && last.n === n) last.end = i + 1;
    else groups.push({ n, start: i, end: i + 1 });
  }
  // Margin of one frame on each side, for rounding of ffmpeg's seek against the frames' times.
  const margin = overlapSeconds + 1 / info.fps;
  // The tracker starts this many frames before the window, wherever the piece's keyframe is.
  const overlapFrames = Math.round(overlapSeconds * info.fps);
  return groups.map((g, index) => {
    const next = groups[index + 1];
    const cutFromSeconds = Math.max(0, seconds(pts[g.start] - first) + info.videoOffsetSeconds - margin);
    const cutTo = seconds(pts[g.end - 1] - first) + info.videoOffsetSeconds + margin;
    return {
      index,
      fromTicks: boundary(g.n),
      toTicks: next ? boundary(next.n) : null,
      trackFromTicks: pts[Math.max(0, g.start - overlapFrames)],
      firstFrame: g.start,
      frames: g.end - g.start,
      firstPts: pts[g.start],
      cutFromSeconds,
      cutSeconds: next ? cutTo - cutFromSeconds : null,
    };
  });
}
