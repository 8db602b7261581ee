// The API side of a video upload: before the job is queued, ffprobe reads the upload's temporary
// file (ingest writes the body there as it arrives) so a file that is not a usable video, or is
// over a limit, is refused with its code at once instead of failing later in a worker.
import { checkVideoLimits, type VideoLimits } from './limits.js';
import { probeVideo, type VideoInfo } from './probe.js';

/** Probing a file this large takes a few hundred ms; past this the upload is refused as unreadable rather than hold a request. */
const PROBE_TIMEOUT_MS = 30_000;

/** ffprobe finds the container by the file's bytes, so the file needs no extension. */
export async function checkVideoUpload(file: string, ffprobe: string, limits: VideoLimits): Promise<VideoInfo> {
  const info = await probeVideo(ffprobe, file, AbortSignal.timeout(PROBE_TIMEOUT_MS));
  checkVideoLimits(info, limits);
  return info;
}
