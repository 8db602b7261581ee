// The query parameters only POST /v1/videos takes, beside the image options (options-query.ts)
// that apply to each frame; ingest/video-options.ts turns them into JobOptions.video.
import { Type, type Static } from '@sinclair/typebox';
import { AUDIO_POLICIES, MAX_DETECT_EVERY, OneOf, VIDEO_CONTAINERS } from './job.js';

export const VideoOptionsQuerySchema = Type.Object(
  {
    detect_every: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_DETECT_EVERY, default: 1, description: 'Run detection on every n-th frame; the tracker carries each face and plate between passes (faster, slightly more risk of a missed frame)' })),
    audio: Type.Optional(OneOf(AUDIO_POLICIES, { default: 'keep', description: 'keep: audio copied as it is (re-encoded to AAC only where MP4 cannot hold it); drop: the output has none' })),
    format: Type.Optional(OneOf(VIDEO_CONTAINERS, { default: 'mp4', description: 'Container of the anonymized video, H.264 inside' })),
  },
  { additionalProperties: false },
);

export type VideoOptionsQuery = Static<typeof VideoOptionsQuerySchema>;
export type VideoOptionsQueryName = keyof typeof VideoOptionsQuerySchema.properties;
