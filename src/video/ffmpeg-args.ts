// The command lines of a video job's two ffmpeg processes: one decodes the input to raw RGB frames
// on its stdout (their times on fd 3), the other reads the anonymized frames, each with its time,
// on its stdin and writes the output file.
import type { MetadataPolicy, VideoOptions } from '../job.js';
import type { VideoInfo } from './probe.js';

/** Audio codecs an MP4 holds as they are; others are re-encoded to AAC there (Matroska holds them all). */
const MP4_AUDIO = new Set(['aac', 'mp3', 'ac3', 'eac3', 'alac', 'opus', 'flac']);

/**
 * Container tags metadata=safe keeps, as images keep camera, dates, artist and copyright; never a
 * location (`location`, `com.apple.quicktime.location.ISO6709`, ...), nor anything unnamed here.
 */
const SAFE_TAGS = new Set([
  'creation_time',
  'date',
  'artist',
  'copyright',
  'make',
  'model',
  'com.apple.quicktime.make',
  'com.apple.quicktime.model',
  'com.apple.quicktime.creationdate',
  'com.apple.quicktime.software',
]);

/** The file descriptor the decoder writes its frame-time listing to (after stdin, stdout, stderr). */
export const FRAME_TIMES_FD = 3;

/**
 * Decoding: the chosen video stream only, rotation applied (so a phone clip's frames are upright
 * and the output needs no rotation flag), every decoded frame once (no frame dropped or doubled
 * for a variable rate), as packed RGB on stdout. A second output lists each frame's pts on fd 3
 * (framecrc of the frames wrapped, not copied: a few dozen bytes a frame), in the stream's own
 * time base (`-enc_time_base -1`; the default, 1/average rate, would round a variable rate's
 * times), flushed per frame and written before the frame's pixels.
 */
export function decodeArgs(input: string, info: VideoInfo, piece = false): string[] {
  // A segment's piece (src/video/segments/) keeps the original's times (-copyts), so its frames are chosen by their pts.
  const stream = ['-map', `0:${piece ? 'v:0' : info.videoIndex}`, '-fps_mode', 'passthrough', '-enc_time_base', '-1'];
  return [
    '-hide_banner', '-nostdin', '-v', 'error', ...(piece ? ['-copyts'] : []), '-i', input,
    ...stream, '-c:v', 'wrapped_avframe', '-flush_packets', '1', '-f', 'framecrc', `pipe:${FRAME_TIMES_FD}`,
    ...stream, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ];
}

export interface EncodeChoice {
  video: VideoOptions;
  metadata: MetadataPolicy;
}

/**
 * Encoding: H.264 (libx264) at the input's size and frame count from the raw frames on stdin, in
 * Matroska (matroska-writer.ts) so each frame keeps its own time: passed through as it is (no
 * frame dropped or doubled) in the input stream's time base, so a variable-rate video keeps every
 * frame's time and a constant-rate one its rate. The audio streams are copied from the input
 * file, nothing else: subtitle and data streams (dash-cam GPS tracks), chapters and attachments
 * never reach the output, and the container's tags only under metadata=safe (SAFE_TAGS).
 */
export function encodeArgs(input: string, output: string, info: VideoInfo, choice: EncodeChoice): string[] {
  // 4:2:0 plays everywhere but needs even sides; an odd-sized video keeps its size in 4:4:4.
  const even = info.width % 2 === 0 && info.height % 2 === 0;
  const video = ['-fps_mode:v', 'passthrough', '-enc_time_base:v', `${info.timeBase.num}/${info.timeBase.den}`];
  video.push('-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', even ? 'yuv420p' : 'yuv444p');
  return muxArgs(['-f', 'matroska', 'pipe:0'], video, input, output, info, choice);
}

/**
 * Joining a segmented video's encoded pieces (src/video/segments/join.ts): the ffconcat list's
 * video copied as it is (no re-encoding), with the original's audio and tags as encodeArgs has them.
 */
export function joinArgs(concatList: string, input: string, output: string, info: VideoInfo, choice: EncodeChoice): string[] {
  return muxArgs(['-f', 'concat', '-safe', '0', concatList], ['-c:v', 'copy'], input, output, info, choice);
}

/** The video from `videoInput` (its format and source) with `videoCodec`, the input's audio, tags and container. */
function muxArgs(videoInput: string[], videoCodec: string[], input: string, output: string, info: VideoInfo, choice: EncodeChoice): string[] {
  const source = videoInput.at(-1)!;
  const args = ['-hide_banner', '-nostdin', '-v', 'error', ...videoInput.slice(0, -1)];
  // The video's first frame keeps its place after the file's start, so the copied audio stays in sync.
  if (info.videoOffsetSeconds > 0.0005) args.push('-itsoffset', info.videoOffsetSeconds.toFixed(6));
  args.push('-i', source);
  const audio = choice.video.audio === 'keep' ? info.audio : [];
  if (audio.length > 0) args.push('-i', input);
  args.push('-map', '0:v:0');
  audio.forEach((a) => args.push('-map', `1:${a.index}`));
  args.push(...videoCodec);
  audio.forEach((a, i) => {
    const copy = choice.video.container === 'mkv' || MP4_AUDIO.has(a.codec);
    args.push(`-c:a:${i}`, copy ? 'copy' : 'aac');
    if (!copy) args.push(`-b:a:${i}`, '192k');
  });
  args.push('-map_metadata', '-1', '-map_chapters', '-1');
  if (choice.metadata === 'safe') {
    for (const [key, value] of Object.entries(info.tags)) if (SAFE_TAGS.has(key.toLowerCase())) args.push('-metadata', `${key}=${value}`);
  }
  // MP4 writes tags outside its own short list (make, model) only as metadata tags.
  if (choice.video.container === 'mp4') args.push('-movflags', choice.metadata === 'safe' ? '+faststart+use_metadata_tags' : '+faststart', '-f', 'mp4');
  else args.push('-f', 'matroska');
  args.push('-y', output);
  return args;
}
