// What ffprobe says about an upload: its streams, frame size (after rotation), rate, frame count
// and duration. Read once at upload (limits, a clear error before anything is queued) and again
// by the worker that runs the job.
import { errors, isPixveilError } from '../errors.js';
import { firstLine, runToEnd } from './ffmpeg.js';
import type { AudioStreamInfo, TimeBase, VideoInfo } from '../video-format.js';

// What a probe finds is described with the video formats (the job record carries it for segment jobs).
export type { AudioStreamInfo, VideoInfo };

interface ProbeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  time_base?: string;
  r_frame_rate?: string;
  nb_read_packets?: string;
  duration?: string;
  start_time?: string;
  disposition?: { attached_pic?: number };
  tags?: Record<string, string>;
  side_data_list?: Array<{ rotation?: number }>;
}

interface ProbeOutput {
  streams?: ProbeStream[];
  format?: { format_name?: string; duration?: string; start_time?: string; nb_streams?: number; tags?: Record<string, string> };
}

function rate(text: string | undefined): number {
  const [num, den] = (text ?? '').split('/').map(Number);
  if (!Number.isFinite(num) || !Number.isFinite(den) || den <= 0 || num <= 0) return 0;
  return num / den;
}

/** A stream without a readable time base gets microseconds (the finest the output keeps). */
function timeBaseOf(text: string | undefined): TimeBase {
  const [num, den] = (text ?? '').split('/').map(Number);
  return Number.isSafeInteger(num) && Number.isSafeInteger(den) && num > 0 && den > 0 ? { num, den } : { num: 1, den: 1_000_000 };
}

const seconds = (text: string | undefined) => (text !== undefined && Number.isFinite(Number(text)) ? Number(text) : 0);

function rotationOf(stream: ProbeStream): number {
  const fromMatrix = stream.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  const degrees = fromMatrix ?? Number(stream.tags?.rotate ?? 0);
  return ((Math.round(degrees) % 360) + 360) % 360;
}

/** Runs ffprobe on a file; UNDECODABLE_VIDEO when it cannot read it, NO_VIDEO_STREAM when there is nothing to anonymize. */
export async function probeVideo(ffprobe: string, file: string, signal?: AbortSignal): Promise<VideoInfo> {
  const out = await runToEnd(ffprobe, ['-v', 'error', '-count_packets', '-show_streams', '-show_format', '-of', 'json', file], signal);
  if (out.code === null && out.signal === null) throw errors.videoUnavailable(`${ffprobe} could not be started: ${firstLine(out.stderr)}`);
  // Stopped by its caller: the reason says why (a worker's VIDEO_TIMEOUT, an erasure); a bare timeout
  // (the upload check's) means ffprobe could not read the file in time.
  if (signal?.aborted) throw isPixveilError(signal.reason) ? signal.reason : errors.undecodableVideo('ffprobe did not finish reading it in time');
  if (out.code !== 0) throw errors.undecodableVideo(firstLine(out.stderr));
  let parsed: ProbeOutput;
  try {
    parsed = JSON.parse(out.stdout) as ProbeOutput;
  } catch {
    throw errors.undecodableVideo('ffprobe gave no readable description');
  }
  return describe(parsed);
}

export function describe(parsed: ProbeOutput): VideoInfo {
  const streams = parsed.streams ?? [];
  const format = parsed.format ?? {};
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!video) {
    const audio = streams.some((s) => s.codec_type === 'audio');
    throw errors.noVideoStream(audio ? 'it holds audio only' : 'it holds no video stream');
  }
  const frames = Number(video.nb_read_packets ?? 0);
  if (!(frames > 0)) throw errors.noVideoStream('its video stream has zero frames');
  if (!video.width || !video.height) throw errors.undecodableVideo('the video stream declares no frame size');
  const rotation = rotationOf(video);
  const sideways = rotation === 90 || rotation === 270;
  const durationSeconds = Math.max(seconds(format.duration), seconds(video.duration));
  let fps = rate(video.avg_frame_rate);
  if (!(fps > 0) && durationSeconds > 0) fps = frames / durationSeconds;
  if (!(fps > 0)) fps = rate(video.r_frame_rate);
  if (!(fps > 0)) throw errors.undecodableVideo('the video stream declares no frame rate');
  return {
    container: format.format_name ?? 'unknown',
    videoIndex: video.index,
    codec: video.codec_name ?? 'unknown',
    width: sideways ? video.height : video.width,
    height: sideways ? video.width : video.height,
    rotation,
    fps,
    timeBase: timeBaseOf(video.time_base),
    frames,
    durationSeconds,
    videoOffsetSeconds: Math.max(0, seconds(video.start_time) - seconds(format.start_time)),
    audio: streams.filter((s) => s.codec_type === 'audio').map((s) => ({ index: s.index, codec: s.codec_name ?? 'unknown' })),
    streamCount: format.nb_streams ?? streams.length,
    tags: { ...(format.tags ?? {}) },
  };
}
