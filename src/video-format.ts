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
