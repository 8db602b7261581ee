import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { invalidOption } from '../errors.js';
import type { JobOptions, VideoOptions } from '../job.js';
import { expectedOf } from '../schema/describe.js';
import { VideoOptionsQuerySchema, type VideoOptionsQueryName } from '../schema/video-options-query.js';
import { parseJobOptions, type OptionContext } from './options.js';

const PARAMS = VideoOptionsQuerySchema.properties;
const VIDEO_ONLY = Object.keys(PARAMS) as VideoOptionsQueryName[];

/** What a request gets for the video options it does not name. */
export const VIDEO_OPTION_DEFAULTS: Readonly<VideoOptions> = Object.freeze({ detectEvery: 1, audio: 'keep', container: 'mp4' });

function param<T>(params: URLSearchParams, name: VideoOptionsQueryName): T | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  const schema = PARAMS[name] as TSchema;
  const type = (schema as { type?: string }).type;
  const value = type === 'integer' ? (raw.trim() === '' ? Number.NaN : Number(raw)) : raw.toLowerCase();
  if (!Value.Check(schema, value)) throw invalidOption(name, expectedOf(schema), raw);
  return value as T;
}

/**
 * POST /v1/videos's query: detect_every, audio and format (the container) are the video's own;
 * every other parameter is an image option applied to each frame, checked as for images (so a
 * typo is refused there too). `quality` does not apply: the video is encoded by its own rule.
 */
export function parseVideoJobOptions(params: URLSearchParams, ctx: OptionContext): JobOptions & { video: VideoOptions } {
  const frameParams = new URLSearchParams();
  for (const [key, value] of params) if (!(VIDEO_ONLY as string[]).includes(key)) frameParams.append(key, value);
  if (frameParams.has('quality')) throw invalidOption('query parameter', `an option videos take (quality applies to images only)`, 'quality');
  const base = parseJobOptions(frameParams, ctx);
  const video: VideoOptions = {
    detectEvery: param<number>(params, 'detect_every') ?? VIDEO_OPTION_DEFAULTS.detectEvery,
    audio: param<VideoOptions['audio']>(params, 'audio') ?? VIDEO_OPTION_DEFAULTS.audio,
    container: param<VideoOptions['container']>(params, 'format') ?? VIDEO_OPTION_DEFAULTS.container,
  };
  return { ...base, video };
}
