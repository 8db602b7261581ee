// A segment job: one piece of a long video, queued by the worker that runs the video (its parent)
// so that any worker, on any node, can run it. Its input is the piece (stored under the child's
// own original key); it writes the frames of its window, encoded on their own, as its result.
import { errors } from '../../errors.js';
import { isJobId } from '../../job.js';

export type { SegmentOfVideo } from '../../job.js';

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
