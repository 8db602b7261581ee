// One video through the pipeline: ffmpeg decodes to raw frames on a pipe → detection in the pool
// (every detect_every-th frame) → the tracker links boxes across frames and settles each frame's
// boxes `lookahead` frames later → blur in the pool → a second ffmpeg encodes. Frames are
// transferred to the threads and back, never copied; the frames in memory at once are the
// detections in flight, the tracker's look-ahead window and the blurs in flight, whatever the length.
import { performance } from 'node:perf_hooks';
import type { Readable, Writable } from 'node:stream';
import { errors, PixveilError } from '../errors.js';
import type { JobOptions } from '../job.js';
import { addTimings } from '../pipeline/stage-timer.js';
import type { FrameBoxInput, FrameTaskResult, ImageTaskFailure } from '../pool/task.js';
import type { ImagePool } from '../pool/image-pool.js';
import { decodeArgs, encodeArgs, FRAME_TIMES_FD } from './ffmpeg-args.js';
import { firstLine, startProcess } from './ffmpeg.js';
import { readFrames } from './frame-reader.js';
import { DecodedFrameTimes } from './frame-times.js';
import { matroskaFrameHeader, matroskaHeader, tickNsFor } from './matroska-writer.js';
import { OutputClock } from './output-clock.js';
import type { VideoInfo } from './probe.js';
import type { FrameBox, FrameTracker, TrackRecord } from './tracker.js';

/** What a video job needs of the pool. */
export type FrameRunner = Pick<ImagePool, 'runFrame' | 'capacity'>;

export interface VideoRun {
  ffmpeg: string;
  input: string;
  output: string;
  info: VideoInfo;
  options: JobOptions & { video: NonNullable<JobOptions['video']> };
  frames: FrameRunner;
  tracker: FrameTracker;
  /** Aborts on timeout, erasure or shutdown: both ffmpeg processes are killed. */
  signal: AbortSignal;
  /** Frames written to the encoder so far, of info.frames. */
  onProgress?: (framesDone: number) => void;
  /**
   * A segment's run (src/video/segments/): `input` is its piece, cut with the frames around its
   * window so the tracker sees across the boundaries; only the frames inside the window are written.
   */
  window?: FrameWindow;
}

/** Frames whose pts, in ticks of the video's time base, lie in [fromTicks, toTicks); toTicks null: to the end. */
export interface FrameWindow {
  fromTicks: number;
  toTicks: number | null;
  /**
   * Frames before this pts are only decoded (a piece starts at the keyframe before its overlap, which
   * may be seconds earlier): neither detected nor tracked. Absent: every frame of the piece is tracked.
   */
  trackFromTicks?: number;
  /**
   * The whole video's frame pts, sorted: a decoded frame's place in the whole video, so detection
   * runs on the same frames (every detect_every-th) as when the video runs whole.
   */
  videoPts?: readonly number[];
}

export interface VideoProcessed {
  frames: number;
  /** Seconds from the first frame's time to the end of the last, as written (the last lasting 1/average rate). */
  durationSeconds: number;
  tracks: TrackRecord[];
  /** Decoded index of the first frame written (0 unless a window left out the frames before it); `tracks` count frames in decoded order. */
  firstWritten: number;
  /** Milliseconds: decode (waiting on ffmpeg for frames), detect, blur, encode (waiting on ffmpeg to take them), summed over frames where they ran in threads. */
  timings: Record<string, number>;
  models: Record<string, string>;
}

interface Detected {
  frame: number;
  pixels: ArrayBuffer;
  boxes: FrameBox[] | null;
}

/** A decoded frame's time in seconds (undefined: none known) and whether it is written or only tracked. */
interface FrameTime {
  seconds: number | undefined;
  written: boolean;
}

function ticksOf(seconds: number | undefined, info: VideoInfo): number | undefined {
  return seconds === undefined || !Number.isFinite(seconds) ? undefined : Math.round((seconds * info.timeBase.den) / info.timeBase.num);
}

function inWindow(ticks: number | undefined, window: FrameWindow | undefined): boolean {
  if (!window) return true;
  // A frame with no time cannot be placed in a segment; the segment's count check then fails the job.
  if (ticks === undefined) return false;
  return ticks >= window.fromTicks && (window.toTicks === null || ticks < window.toTicks);
}

/**
 * A piece's frame time as the whole video's: a piece cut into MP4 may be off by up to half a
 * millisecond (its edit list is in ms), so a time is taken as the nearest of the video's within 1 ms.
 */
function snapped(ticks: number | undefined, info: VideoInfo, videoPts: readonly number[] | undefined): number | undefined {
  if (ticks === undefined || !videoPts || videoPts.length === 0) return ticks;
  const at = placeOf(videoPts, ticks);
  const nearest = [videoPts[at - 1], videoPts[at]].filter((p) => p !== undefined).sort((a, b) => Math.abs(a - ticks) - Math.abs(b - ticks))[0];
  return Math.abs(nearest - ticks) * info.timeBase.num <= info.timeBase.den / 1000 ? nearest : undefined;
}

/** Index of the first of the sorted `pts` at or after `ticks`. */
function placeOf(pts: readonly number[], ticks: number): number {
  let lo = 0;
  let hi = pts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pts[mid] < ticks) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function unwrap(outcome: FrameTaskResult | ImageTaskFailure): FrameTaskResult {
  if (!outcome.ok) throw new PixveilError(outcome.code, outcome.message, { retryable: outcome.retryable });
  return outcome;
}

/** Resolves once the stream took the chunk (after 'drain' when its buffer is full); rejects if it errors or closes first. */
function write(stream: Writable, chunk: Uint8Array): Promise<void> {
  const closed = () => new Error('the encoder closed its input');
  if (stream.destroyed) return Promise.reject(closed());
  if (stream.write(chunk)) return Promise.resolve();
  // Already closed (the encoder died): 'close' has been emitted and 'drain' never will be.
  if (stream.destroyed) return Promise.reject(closed());
  return new Promise((resolve, reject) => {
    const settle = (err?: Error) => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => settle();
    const onError = (err: Error) => settle(err);
    const onClose = () => settle(closed());
    stream.once('drain', onDrain);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}

export async function processVideo(run: VideoRun): Promise<VideoProcessed> {
  const { info, options } = run;
  const frameBytes = info.width * info.height * 3;
  const timings: Record<string, number> = { decode: 0, encode: 0 };
  const models: Record<string, string> = {};
  // One frame per pool slot in detection and as many in blur: the threads stay busy, memory stays bounded.
  const inFlight = Math.max(1, run.frames.capacity);
  const detectEvery = options.video.detectEvery;

  const decoder = startProcess(run.ffmpeg, decodeArgs(run.input, info, run.window !== undefined), run.signal, 1);
  const encoder = startProcess(run.ffmpeg, encodeArgs(run.input, run.output, info, { video: options.video, metadata: options.metadata ?? 'strip' }), run.signal);
  decoder.child.stdin.end();
  const times = new DecodedFrameTimes(decoder.child.stdio[FRAME_TIMES_FD] as Readable);
  const clock = new OutputClock(tickNsFor(info.timeBase.num, info.timeBase.den), 1 / info.fps);
  // Buffered by the pipe until the encoder reads it; each frame's own header goes just before its pixels.
  encoder.child.stdin.write(matroskaHeader({ width: info.width, height: info.height, tickNs: clock.tickNs, frameDurationNs: 1e9 / info.fps }));
  // A frame task that fails while an earlier one is awaited must not surface as an unhandled rejection.
  const quiet = <T>(p: Promise<T>): Promise<T> => {
    p.catch(() => {});
    return p;
  };
  let written = 0;
  let firstWritten = -1;
  try {
    const detecting: Array<Promise<Detected>> = [];
    const held = new Map<number, ArrayBuffer>();
    const frameTimes = new Map<number, FrameTime>();
    const blurring: Array<{ pixels: Promise<ArrayBuffer>; seconds: number | undefined }> = [];

    const writeOne = async () => {
      const next = blurring.shift()!;
      const pixels = await next.pixels;
      const ticks = clock.ticksFor(next.seconds);
      const start = performance.now();
      encoder.child.stdin.write(matroskaFrameHeader(ticks, frameBytes));
      await write(encoder.child.stdin, new Uint8Array(pixels));
      timings.encode += performance.now() - start;
      written++;
      run.onProgress?.(written);
    };
    const settle = async (final: Array<{ frame: number; boxes: FrameBox[] }>) => {
      for (const { frame, boxes } of final) {
        const pixels = held.get(frame);
        if (!pixels) throw errors.internal(`the tracker settled frame ${frame}, which it was not given`);
        held.delete(frame);
        const time = frameTimes.get(frame)!;
        frameTimes.delete(frame);
        // Outside the window: seen by the tracker only, written by the neighbouring segment.
        if (!time.written) continue;
        if (firstWritten < 0) firstWritten = frame;
        const blur: FrameBoxInput[] = boxes.map((b) => ({ kind: b.kind as FrameBoxInput['kind'], label: b.label ?? b.kind, x: b.x, y: b.y, width: b.width, height: b.height }));
        blurring.push({ seconds: time.seconds, pixels: quiet(run.frames.runFrame(pixels, info.width, info.height, options, blur).then((r) => {
          const done = unwrap(r);
          addTimings(timings, done.timings);
          return done.pixels;
        })) });
        while (blurring.length >= inFlight) await writeOne();
      }
    };
    const takeDetected = async () => {
      const d = await detecting.shift()!;
      held.set(d.frame, d.pixels);
      await settle(run.tracker.push(d.frame, d.boxes));
    };

    let index = 0;
    // Frames given to the tracker: numbered from 0 at the first one tracked.
    let tracked = 0;
    let waitStart = performance.now();
    for await (const pixels of readFrames(decoder.child.stdout, frameBytes)) {
      timings.decode += performance.now() - waitStart;
      // The listing writes a frame's time before its pixels, so this does not wait on the decoder.
      const decoded = await times.secondsAt(index++);
      const ticks = snapped(ticksOf(decoded, info), info, run.window?.videoPts);
      if (ticks !== undefined && run.window?.trackFromTicks !== undefined && ticks < run.window.trackFromTicks) {
        waitStart = performance.now();
        continue;
      }
      const frame = tracked++;
      const seconds = run.window?.videoPts ? (ticks === undefined ? undefined : (ticks * info.timeBase.num) / info.timeBase.den) : decoded;
      frameTimes.set(frame, { seconds, written: inWindow(ticks, run.window) });
      const place = run.window?.videoPts && ticks !== undefined ? placeOf(run.window.videoPts, ticks) : frame;
      if (place % detectEvery === 0) {
        detecting.push(quiet(run.frames.runFrame(pixels, info.width, info.height, options).then((r) => {
          const done = unwrap(r);
          addTimings(timings, done.timings);
          Object.assign(models, done.models);
          return { frame, pixels: done.pixels, boxes: done.detections.map((d) => ({ kind: d.kind, label: d.label, score: d.score, x: d.x, y: d.y, width: d.width, height: d.height })) };
        })));
      } else {
        detecting.push(Promise.resolve({ frame, pixels, boxes: null }));
      }
      while (detecting.length >= inFlight) await takeDetected();
      waitStart = performance.now();
    }
    while (detecting.length > 0) await takeDetected();
    await settle(run.tracker.flush());
    while (blurring.length > 0) await writeOne();

    const decoded = await decoder.exited;
    if (run.signal.aborted) throw abortReason(run.signal);
    if (decoded.code !== 0) throw errors.undecodableVideo(`ffmpeg stopped decoding after ${index} frames: ${firstLine(decoded.stderr)}`);
    if (index === 0) throw errors.noVideoStream('no frame could be decoded');
    encoder.child.stdin.end();
    const encoded = await encoder.exited;
    if (run.signal.aborted) throw abortReason(run.signal);
    if (encoded.code !== 0) throw errors.internal(`ffmpeg could not encode the output: ${firstLine(encoded.stderr)}`);
    for (const stage of Object.keys(timings)) timings[stage] = Math.round(timings[stage] * 100) / 100;
    return { frames: written, durationSeconds: clock.durationSeconds(), tracks: run.tracker.tracks(), firstWritten: Math.max(0, firstWritten), timings, models };
  } catch (err) {
    decoder.kill();
    encoder.kill();
    await Promise.all([decoder.exited, encoder.exited]);
    if (run.signal.aborted) throw abortReason(run.signal);
    // A write into an encoder that died, or a decoder that died mid-frame: ffmpeg's own words say why.
    if (!(err instanceof PixveilError)) {
      const [d, e] = await Promise.all([decoder.exited, encoder.exited]);
      if (e.code !== 0 && e.code !== null && e.signal === null) throw errors.internal(`ffmpeg could not encode the output: ${firstLine(e.stderr)}`);
      if (d.code !== 0 && d.code !== null && d.signal === null) throw errors.undecodableVideo(firstLine(d.stderr));
    }
    throw err;
  }
}

/** What a stopped video job throws: the signal's PixveilError (timeout, erasure), else a plain stop (shutdown). */
export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof PixveilError ? signal.reason : errors.internal('the video job was stopped');
}
