import { errors } from '../errors.js';
import type { VideoInfo } from './probe.js';

export interface VideoLimits {
  maxSeconds: number;
  maxPixels: number;
}

/**
 * Streams a file may have. A dash-cam clip has 2 to 4 (video, audio, a GPS or timecode track);
 * hundreds are a crafted file that would make ffmpeg open a decoder for each.
 */
export const MAX_STREAMS = 32;

/** VIDEO_TOO_LONG, VIDEO_TOO_LARGE or TOO_MANY_STREAMS, checked at upload and again by the worker. */
export function checkVideoLimits(info: VideoInfo, limits: VideoLimits): void {
  if (info.streamCount > MAX_STREAMS) throw errors.tooManyStreams(info.streamCount, MAX_STREAMS);
  if (info.width * info.height > limits.maxPixels) throw errors.videoTooLarge(info.width, info.height, limits.maxPixels);
  // The declared duration, and what the frame count says at the stream's rate: either over the limit refuses.
  const counted = info.frames / info.fps;
  const seconds = Math.max(info.durationSeconds, counted);
  if (seconds > limits.maxSeconds) throw errors.videoTooLong(seconds, limits.maxSeconds);
}
