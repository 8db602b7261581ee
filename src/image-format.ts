// The image formats pixveil reads and writes, named once for every layer.

/** File extension of a stored image; also the name a job records for its input and output. */
export type ImageExt = 'jpg' | 'png' | 'webp';

/** What a request may ask for: `same` keeps the input's format. */
export type OutputFormat = 'same' | 'jpeg' | 'png' | 'webp';

export const IMAGE_EXTS: readonly ImageExt[] = Object.freeze(['jpg', 'png', 'webp']);

/** The largest width or height each output encoder can write (WebP: 14 bits; JPEG: 16 bits). */
export const MAX_OUTPUT_SIDE: Readonly<Record<ImageExt, number>> = Object.freeze({ jpg: 65_535, png: 2 ** 31 - 1, webp: 16_383 });

export const contentTypes: Readonly<Record<ImageExt, string>> = Object.freeze({ jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp' });

/**
 * The one jpg/jpeg mapping: a format name (sharp's `jpeg`, a user's `jpg` or `JPEG`, a file
 * extension without its dot) → our extension; undefined for anything we do not write.
 */
export function imageExtOf(name: string): ImageExt | undefined {
  const lower = name.toLowerCase();
  if (lower === 'jpeg' || lower === 'jpg') return 'jpg';
  return (IMAGE_EXTS as readonly string[]).includes(lower) ? (lower as ImageExt) : undefined;
}

/** The output extension for a requested format and the input's. */
export function outputExt(requested: OutputFormat, input: ImageExt): ImageExt {
  return requested === 'same' ? input : imageExtOf(requested)!;
}

/** The request-side name of an extension (`jpg` → `jpeg`), for `format=` options. */
export function outputFormatOf(name: string): OutputFormat | undefined {
  if (name.toLowerCase() === 'same') return 'same';
  const ext = imageExtOf(name);
  return ext === 'jpg' ? 'jpeg' : ext;
}
