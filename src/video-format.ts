// The video containers pixveil reads and writes, named once for every layer (images: image-format.ts).

/** Container of a stored video; also the name a job records for its input and output. */
export type VideoExt = 'mp4' | 'mov' | 'mkv' | 'webm' | 'ts';

export const VIDEO_EXTS: readonly VideoExt[] = Object.freeze(['mp4', 'mov', 'mkv', 'webm', 'ts']);

/** Containers a video job writes (H.264 video in each); `mp4` is the default. */
export const VIDEO_OUTPUTS = ['mp4', 'mkv'] as const;
export type VideoOutput = (typeof VIDEO_OUTPUTS)[number];

export const videoContentTypes: Readonly<Record<VideoExt, string>> = Object.freeze({
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  mkv: 'video/x-matroska',
  webm: 'video/webm',
  ts: 'video/mp2t',
});

export function isVideoExt(name: string): name is VideoExt {
  return (VIDEO_EXTS as readonly string[]).includes(name);
}

/** A video stream's time base: seconds per pts tick, as a fraction. */
export interface TimeBase {
  num: number;
  den: number;
}

export interface AudioStreamInfo {
  /** Stream index in the input file (for -map). */
  index: number;
  codec: string;
}

export interface VideoInfo {
  /** Container as ffprobe names it (mov,mp4,m4a,3gp,3g2,mj2 / matroska,webm / mpegts). */
  container: string;
  /** Index of the video stream that is anonymized (the first that is not cover art). */
  videoIndex: number;
  codec: string;
  /** Frame size as displayed, i.e. after the rotation ffmpeg applies when decoding. */
  width: number;
  height: number;
  /** Degrees of the display rotation the file declares (phone clips), 0 when none. */
  rotation: number;
  /** Average frames per second (a variable-rate video's frames keep their own times; this is what ffmpeg reports). */
  fps: number;
  /** The video stream's time base (seconds per pts tick): the output's video is written in it. */
  timeBase: TimeBase;
  /** Video frames counted by reading every packet (not the container's claim). */
  frames: number;
  /** Seconds: the longest of the container's and the video stream's declared durations. */
  durationSeconds: number;
  /** Start of the video stream after the file's start (s): kept in the output so audio stays in sync. */
  videoOffsetSeconds: number;
  audio: AudioStreamInfo[];
  /** Every stream: video, audio, subtitles, data (GPS tracks), attachments. */
  streamCount: number;
  /** The container's global tags (metadata=safe keeps some). */
  tags: Record<string, string>;
}
