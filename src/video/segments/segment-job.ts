// A segment job: one piece of a long video, queued by the worker that runs the video (its parent)
// so that any worker, on any node, can run it. Its input is the piece (stored under the child's
// own original key); it writes the frames of its window, encoded on their own, as its result.
import { errors } from '../../errors.js';
import { isJobId } from '../../job.js';
import type { VideoInfo } from '../probe.js';

export interface SegmentOfVideo {
  /** The video's job, which joins the segments. */
  parentId: string;
  index: number;
  /** Its window and its place in the whole video (the plan less the cut, which the parent did). */
  fromTicks: number;
  toTicks: number | null;
  trackFromTicks: number;
  firstFrame: number;
  frames: number;
  /** The whole video's probe as a segment runs with it (no audio, no offset): time base, rate, size, rotation. */
  info: VideoInfo;
  /** Where the whole video's frame list is stored (storageKeys.segmentFrames), read by every segment. */
  framesKey: string;
}

/** Deterministic, so a parent run again after its worker died finds the children it already queued. */
export function segmentJobId(parentId: string, index: number): string {
  const id = `${parentId}-s${index}`;
  if (!isJobId(id)) throw errors.internal(`video job id ${parentId} is too long to name its segment jobs`);
  return id;
}

/** What a segment job's metadata record carries for its parent (besides its tracks). */
export interface SegmentRecord {
  parent_id: string;
  index: number;
  first_frame: number;
  frames: number;
  /** host-pid of the worker that ran it. */
  node: string;
}
