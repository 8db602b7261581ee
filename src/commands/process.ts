import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { tuneAllocator } from '../addon/allocator.js';
import { ConfigError, type Config } from '../config/config.js';
import { PixveilError, type ErrorCode } from '../errors.js';
import { outputExt, type ImageExt } from '../image-format.js';
import type { JobOptions, VideoOptions } from '../job.js';
import { detectionKinds, thresholdFlag, thresholdParam } from '../kinds.js';
import { parseJobOptions, type OptionContext } from '../ingest/options.js';
import { describeNonVideo, sniffVideoType } from '../ingest/sniff.js';
import { parseVideoJobOptions } from '../ingest/video-options.js';
import { ffmpegProblem } from '../video/ffmpeg.js';
import { anonymizeVideoFile } from '../video/video-jobs.js';
import { availableDetectors, configuredModels, defaultThresholds, knownManifests, presentModels } from '../models/configured.js';
import { checkProvidersStart } from '../models/execution-providers.js';
import { modelPath } from '../models/files.js';
import { ensureModels } from '../models/pull.js';
import { resolvePlateModel } from '../models/plate-precision.js';
import { decodeBudgetFromConfig, type ReleasePixels } from '../pipeline/decode-budget.js';
import { ImagePool } from '../pool/image-pool.js';
import { poolOptionsFromConfig } from '../pool/pool-options.js';
import { createProgress } from './progress.js';

const IMAGE_FILE = /\.(jpe?g|png|webp)$/i;
/** Videos by name (the bytes decide the container); `.ts` is MPEG-TS as dash-cams write it. */
const VIDEO_FILE = /\.(mp4|m4v|mov|mkv|webm|ts|mts|m2ts)$/i;
const CANONICAL: Record<string, ImageExt> = { '.jpg': 'jpg', '.png': 'png', '.webp': 'webp' };

/** The flags of `pixveil process`, as commander hands them over. */
export interface ProcessFlags {
  blur?: string;
  shape?: string;
  detect?: string;
  /** faceThreshold, plateThreshold, …: commander's names of the kinds' --face-threshold flags. */
  [threshold: `${string}Threshold`]: string | undefined;
  blurClasses?: string;
  format?: string;
  quality?: string;
  metadata?: string;
  detectEvery?: string;
  audio?: string;
  videoFormat?: string;
  recursive: boolean;
  force: boolean;
  report?: string;
  inFlight?: number;
  progressEvery: number;
}

// Flag ↔ query parameter: the CLI goes through the HTTP API's validator, so both refuse the same values.
const FLAG_PARAMS: [keyof ProcessFlags, string, string][] = [
  ['blur', 'blur', '--blur'],
  ['shape', 'shape', '--shape'],
  ['detect', 'detect', '--detect'],
  ...detectionKinds().map((k): [keyof ProcessFlags, string, string] => [`${k.name}Threshold`, thresholdParam(k), thresholdFlag(k)]),
  ['blurClasses', 'blur_classes', '--blur-classes'],
  ['format', 'format', '--format'],
  ['quality', 'quality', '--quality'],
  ['metadata', 'metadata', '--metadata'],
];
const VIDEO_FLAG_PARAMS: [keyof ProcessFlags, string, string][] = [
  ['detectEvery', 'detect_every', '--detect-every'],
  ['audio', 'audio', '--audio'],
  ['videoFormat', 'format', '--video-format'],
];

function optionContext(config: Config): OptionContext {
  const models = configuredModels(config, knownManifests(config));
  return {
    available: availableDetectors(models),
    objectClasses: models.objects?.classes ?? [],
    defaultThresholds: defaultThresholds(models),
    defaultMetadata: config.keepMetadata,
  };
}

/** The API's validator under the CLI's names: a bad value is a one-line ConfigError naming the flag. */
function withFlagNames<T>(pairs: [keyof ProcessFlags, string, string][], parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof PixveilError)) throw err;
    let message = err.message;
    for (const [, param, flag] of pairs) message = message.replace(new RegExp(`\\bfor ${param}\\b`), `for ${flag}`);
    throw new ConfigError(message);
  }
}

function paramsOf(flags: ProcessFlags, pairs: [keyof ProcessFlags, string, string][]): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, param] of pairs) if (flags[key] !== undefined) params.set(param, String(flags[key]));
  return params;
}

export function jobOptionsFromFlags(config: Config, flags: ProcessFlags): JobOptions {
  return withFlagNames(FLAG_PARAMS, () => parseJobOptions(paramsOf(flags, FLAG_PARAMS), optionContext(config)));
}

/** What videos in the folder get: the image flags but --format and --quality, and the video flags. */
export function videoOptionsFromFlags(config: Config, flags: ProcessFlags): JobOptions & { video: VideoOptions } {
  const pairs = [...FLAG_PARAMS.filter(([key]) => key !== 'format' && key !== 'quality'), ...VIDEO_FLAG_PARAMS];
  return withFlagNames(pairs, () => parseVideoJobOptions(paramsOf(flags, pairs), optionContext(config)));
}

/** One image found under the input folder. */
interface Found {
  file: string;
  /** Relative to the input folder, with its subfolders. */
  rel: string;
  /** A folder that could not be listed: reported as a failure, the walk goes on. */
  unreadable?: string;
}

/**
 * Streams the image files under `dir` (fs.opendir: one directory entry at a time, never a whole
 * listing in memory). Folders are entered only when recursive, and never the output folder; a
 * folder named like an image (`dir.jpg`) is a folder.
 */
async function* walk(dir: string, rel: string, recursive: boolean, skip: string, ancestors: string[] = []): AsyncGenerator<Found> {
  // Real paths of the folders above, so a link back up the tree is not followed forever.
  const real = await fsp.realpath(dir).catch(() => dir);
  if (ancestors.includes(real)) return;
  let handle: fs.Dir;
  try {
    handle = await fsp.opendir(dir);
  } catch (err) {
    yield { file: dir, rel: rel || '.', unreadable: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
    return;
  }
  for await (const entry of handle) {
    const file = path.join(dir, entry.name);
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      // A dangling link named like an image is reported as unreadable, not skipped unseen.
      const stat = await fsp.stat(file).catch(() => undefined);
      isDir = Boolean(stat?.isDirectory());
      isFile = !stat || stat.isFile();
    }
    if (isDir) {
      if (recursive && path.resolve(file) !== skip) yield* walk(file, path.join(rel, entry.name), recursive, skip, [...ancestors, real]);
    } else if (isFile && (IMAGE_FILE.test(entry.name) || VIDEO_FILE.test(entry.name))) {
      yield { file, rel: path.join(rel, entry.name) };
    }
  }
}

/**
 * The output name of one input, from its own name only, so a rerun finds it again: `x.jpg`
 * stays `x.jpg`, any other spelling keeps its name and adds the output's (`x.jpeg` →
 * `x.jpeg.jpg`), so `x.jpg` and `x.jpeg` in one folder never share an output. The JSON record
 * is the image's name plus `.json`.
 */
export function outputNameOf(inputName: string, out: ImageExt): string {
  const ext = path.extname(inputName);
  return CANONICAL[ext] === out ? inputName : `${inputName}.${out}`;
}

/** A video's output name: `x.mp4` stays when it is written as MP4, others add the container (`x.mov.mp4`). */
export function videoOutputNameOf(inputName: string, container: VideoOptions['container']): string {
  return path.extname(inputName).slice(1).toLowerCase() === container ? inputName : `${inputName}.${container}`;
}

/** `outputNameOf`, and past any input beside it that keeps its own name there (`x.jpeg` next to `x.jpeg.jpg`). */
async function freeOutputName(inputDir: string, inputName: string, out: ImageExt): Promise<string> {
  let name = outputNameOf(inputName, out);
  if (name === inputName) return name;
  for (let stem = inputName; await fsp.stat(path.join(inputDir, name)).then(() => true, () => false); ) {
    stem = `${stem}~`;
    name = `${stem}.${out}`;
  }
  return name;
}

/** Written under a temporary name, then renamed: an interrupted run never leaves a half file that looks done. */
async function writeAtomically(file: string, data: Buffer | string): Promise<void> {
  const tmp = `${file}.${process.pid}.partial`;
  try {
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

function expectedExt(name: string, options: JobOptions): ImageExt {
  const ext = path.extname(name).toLowerCase();
  const input: ImageExt = ext === '.png' ? 'png' : ext === '.webp' ? 'webp' : 'jpg';
  return outputExt(options.format, input);
}

async function mtimeOf(file: string): Promise<number | undefined> {
  return (await fsp.stat(file).catch(() => undefined))?.mtimeMs;
}

async function isDone(input: string, image: string, record: string): Promise<boolean> {
  const [inTime, imageTime, recordTime] = await Promise.all([mtimeOf(input), mtimeOf(image), mtimeOf(record)]);
  return inTime !== undefined && imageTime !== undefined && recordTime !== undefined && imageTime >= inTime && recordTime >= inTime;
}

async function checkFolder(dir: string, what: string, mayBeMissing: boolean): Promise<void> {
  const stat = await fsp.stat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' && mayBeMissing) return undefined;
    throw new ConfigError(err.code === 'ENOENT' ? `No such folder: ${dir}` : `Cannot read ${what} ${dir}: ${err.code ?? err.message}`);
  });
  if (stat && !stat.isDirectory()) throw new ConfigError(`${dir} is a file, not a folder (${what} must be a folder)`);
}

export interface ProcessSummary {
  input: string;
  output: string;
  processed: number;
  skipped: number;
  failed: number;
  seconds: number;
  /** Processed images only: skipped and failed ones do not count. */
  images_per_second: number;
  /** The JSONL failure report, when anything failed. */
  report: string | null;
}

/** `pixveil process <in> [out]`: the same pool and pipeline as the service, without HTTP or a queue. */
export async function processDirectory(config: Config, input: string, outDir: string, flags: ProcessFlags): Promise<ProcessSummary> {
  const options = jobOptionsFromFlags(config, flags);
  const videoOptions = videoOptionsFromFlags(config, flags);
  await checkFolder(input, 'the input', false);
  await checkFolder(outDir, 'the output', true);
  const reportFile = flags.report ?? path.join(outDir, 'failures.jsonl');
  try {
    await fsp.mkdir(outDir, { recursive: true });
    await fsp.mkdir(path.dirname(reportFile), { recursive: true });
    await fsp.rm(reportFile, { force: true });
  } catch (err) {
    throw new ConfigError(`Cannot prepare the output (${outDir}, report ${reportFile}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }

  const skip = path.resolve(outDir);
  let total = 0;
  for await (const _ of walk(input, '', flags.recursive, skip)) total++;

  const manifests = knownManifests(config);
  const plate = await resolvePlateModel(config, manifests);
  config = plate.config;
  const needed = presentModels(configuredModels(config, manifests));
  // Providers and pixel ops first: a GPU that is not there stops the run before any model is pulled.
  const poolOptions = poolOptionsFromConfig(config);
  await ensureModels(config.modelDir, needed, { pull: config.modelPullOnStart, progress: process.stderr, mirror: config.modelMirror || undefined });
  await checkProvidersStart(config.executionProviders, needed[0] && modelPath(config.modelDir, needed[0]));
  // Said once the run can start at all, so a set-up error stays the only line printed.
  if (plate.choice) process.stderr.write(`plate model ${plate.choice.model} (${plate.choice.precision}): ${plate.choice.reason}\n`);
  tuneAllocator(config.allocatorTuning);
  const pool = new ImagePool(poolOptions);
  const budget = decodeBudgetFromConfig(config);
  const progress = createProgress(process.stderr, total, flags.progressEvery);
  let report: fs.WriteStream | undefined;
  const counts = { processed: 0, skipped: 0, failed: 0 };

  /** The report's codes: the service's (errors.ts) and the CLI's own file-system ones. */
  const fail = (rel: string, code: ErrorCode | 'READ_ERROR' | 'WRITE_ERROR', message: string) => {
    counts.failed++;
    if (!report) {
      report = fs.createWriteStream(reportFile, { flags: 'a' });
      report.once('error', (err) => progress.note(`cannot write the failure report ${reportFile}: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    }
    report.write(`${JSON.stringify({ file: rel, code, message, time: new Date().toISOString() })}\n`);
    progress.note(`${rel}: ${code}: ${message}`);
  };

  // Checked at the first video, once: a folder of photos needs no ffmpeg.
  let videoProblem: Promise<string | undefined> | undefined;
  const oneVideo = async (file: string, rel: string) => {
    const name = videoOutputNameOf(path.basename(rel), videoOptions.video.container);
    const dir = path.join(outDir, path.dirname(rel));
    const output = path.join(dir, name);
    if (!flags.force && (await isDone(file, output, `${output}.json`))) {
      counts.skipped++;
      return;
    }
    const problem = await (videoProblem ??= ffmpegProblem({ ffmpeg: config.ffmpegPath, ffprobe: config.ffprobePath }));
    if (problem) return fail(rel, 'VIDEO_UNAVAILABLE', problem);
    const head = Buffer.alloc(1024);
    const handle = await fsp.open(file, 'r').catch(() => undefined);
    if (!handle) return fail(rel, 'READ_ERROR', 'cannot read the file');
    const { bytesRead } = await handle.read(head, 0, head.length, 0).finally(() => handle.close());
    if (!sniffVideoType(head.subarray(0, bytesRead))) return fail(rel, 'UNSUPPORTED_MEDIA_TYPE', `not a video: ${describeNonVideo(head.subarray(0, bytesRead))}`);
    await fsp.mkdir(dir, { recursive: true });
    const partial = `${output}.${process.pid}.partial.${videoOptions.video.container}`;
    try {
      const done = await anonymizeVideoFile({
        ffmpeg: config.ffmpegPath,
        ffprobe: config.ffprobePath,
        input: file,
        output: partial,
        options: videoOptions,
        frames: pool,
        limits: { maxSeconds: config.maxVideoSeconds, maxPixels: config.maxVideoPixels },
        timeoutSeconds: config.videoTimeoutSeconds,
        segmentSeconds: config.videoSegmentSeconds,
        tempDir: config.videoTempDir || undefined,
        signal: new AbortController().signal,
        onProgress: () => {},
      });
      await fsp.rename(partial, output);
      await writeAtomically(`${output}.json`, JSON.stringify({ file: rel, output: path.relative(outDir, output), width: done.info.width, height: done.info.height, video: done.summary, timings: done.timings, models: done.models, tracks: done.tracks }, null, 2));
      counts.processed++;
    } catch (err) {
      fail(rel, err instanceof PixveilError ? err.code : 'WRITE_ERROR', (err as Error).message);
    } finally {
      await fsp.rm(partial, { force: true });
    }
  };

  const one = async ({ file, rel, unreadable }: Found) => {
    if (unreadable) return fail(rel, 'READ_ERROR', `cannot read the folder: ${unreadable}`);
    if (VIDEO_FILE.test(rel)) return oneVideo(file, rel);
    const name = await freeOutputName(path.dirname(file), path.basename(rel), expectedExt(rel, options));
    const dir = path.join(outDir, path.dirname(rel));
    const image = path.join(dir, name);
    if (!flags.force && (await isDone(file, image, `${image}.json`))) {
      counts.skipped++;
      return;
    }
    let bytes: Buffer;
    try {
      bytes = await fsp.readFile(file);
    } catch (err) {
      return fail(rel, 'READ_ERROR', `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    let release: ReleasePixels;
    try {
      release = await budget.reserveFor(bytes);
    } catch (err) {
      return fail(rel, err instanceof PixveilError ? err.code : 'UNDECODABLE_IMAGE', (err as Error).message);
    }
    const outcome = await pool.run(bytes, options).finally(release);
    if (!outcome.ok) return fail(rel, outcome.code, outcome.message);
    // The bytes decide the format: a PNG named .jpg comes out as PNG, under a name that says so.
    const written = outcome.format === expectedExt(rel, options) ? image : path.join(dir, await freeOutputName(path.dirname(file), path.basename(rel), outcome.format));
    try {
      await fsp.mkdir(dir, { recursive: true });
      await writeAtomically(written, Buffer.from(outcome.image));
      const { image: _bytes, ok: _ok, ...record } = outcome;
      await writeAtomically(`${written}.json`, JSON.stringify({ file: rel, output: path.relative(outDir, written), ...record }, null, 2));
      counts.processed++;
    } catch (err) {
      fail(rel, 'WRITE_ERROR', `cannot write ${written}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };

  // A fixed number of images in flight: enough to keep every pool slot busy while the next files
  // are read, and no more, however large the folder.
  const limit = flags.inFlight ?? pool.capacity * 2;
  const running = new Set<Promise<void>>();
  const started = Date.now();
  try {
    for await (const found of walk(input, '', flags.recursive, skip)) {
      const task: Promise<void> = one(found)
        .catch((err) => fail(found.rel, 'INTERNAL', (err as Error).message))
        .finally(() => {
          running.delete(task);
          progress.update(counts);
        });
      running.add(task);
      if (running.size >= limit) await Promise.race(running);
    }
    await Promise.all(running);
  } finally {
    progress.done(counts);
    await pool.close();
    if (report) await new Promise<void>((resolve) => (report!.writable ? report!.end(resolve) : resolve()));
  }
  const seconds = (Date.now() - started) / 1000;
  return {
    input,
    output: outDir,
    ...counts,
    seconds: Math.round(seconds * 100) / 100,
    images_per_second: seconds > 0 ? Math.round((counts.processed / seconds) * 100) / 100 : 0,
    report: report ? reportFile : null,
  };
}

/** Prints the summary as JSON on stdout; exit status 1 when any image failed. */
export async function runProcessCommand(config: Config, input: string, out: string | undefined, flags: ProcessFlags): Promise<void> {
  const summary = await processDirectory(config, input, out ?? path.join(input, 'anonymized'), flags);
  console.log(JSON.stringify(summary, null, 2));
  if (summary.failed > 0) process.exitCode = 1;
}
