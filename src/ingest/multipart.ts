import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { errors } from '../errors.js';

export interface UploadedFile {
  field: string;
  filename?: string;
  data: Buffer;
}

export interface MultipartLimits {
  maxFiles: number;
  maxFileBytes: number;
  fields: readonly string[];
}

/** Parses a buffered multipart body; only the named file fields count, others are ignored. */
export function parseMultipart(contentType: string, body: Buffer, limits: MultipartLimits): Promise<UploadedFile[]> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': contentType },
        limits: { files: limits.maxFiles, fileSize: limits.maxFileBytes, fields: 100, parts: limits.maxFiles + 100, headerPairs: 50 },
      });
    } catch (err) {
      reject(errors.badMultipart((err as Error).message));
      return;
    }
    const files: UploadedFile[] = [];
    let failure: Error | undefined;
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      // busboy destroys an unfinished file stream with the parser's error (truncated body); an
      // 'error' without a listener would end the process, so it is recorded as the parse failure.
      stream.on('error', (err: Error) => (failure ??= errors.badMultipart(err.message)));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => (failure ??= errors.payloadTooLarge(limits.maxFileBytes)));
      stream.on('close', () => {
        if (limits.fields.includes(field)) files.push({ field, filename: info.filename, data: Buffer.concat(chunks) });
      });
    });
    parser.on('filesLimit', () => (failure ??= errors.tooManyFiles(limits.maxFiles)));
    parser.on('partsLimit', () => (failure ??= errors.tooManyFiles(limits.maxFiles)));
    parser.on('error', (err: Error) => reject(errors.badMultipart(err.message)));
    parser.on('close', () => (failure ? reject(failure) : resolve(files)));
    parser.end(body);
  });
}

export function isMultipart(contentType: string | undefined): boolean {
  return (contentType ?? '').toLowerCase().startsWith('multipart/form-data');
}

/**
 * The file of a single-file upload route: the raw body (its name from X-Filename), or the one file of
 * a multipart body under one of `fields` (MISSING_FILE when there is none).
 */
export async function singleUpload(contentType: string | undefined, body: Buffer, headerName: string | undefined, limits: { maxFileBytes: number; fields: string[] }): Promise<{ bytes: Buffer; filename: string | undefined }> {
  if (!isMultipart(contentType)) return { bytes: body, filename: headerName };
  const files = await parseMultipart(contentType!, body, { maxFiles: 1, maxFileBytes: limits.maxFileBytes, fields: limits.fields });
  if (files.length === 0) throw errors.missingFile('file');
  return { bytes: files[0].data, filename: files[0].filename };
}

/**
 * The file of a single-file multipart body that sits on disk (a video upload), written to
 * `target` as busboy reads it: memory holds a stream's buffers, never the file. undefined when
 * the body has no part under one of `fields`; the same codes as parseMultipart otherwise.
 */
export async function multipartFileToDisk(contentType: string, source: string, target: string, limits: { maxFileBytes: number; fields: readonly string[]; setting: string }): Promise<{ filename: string | undefined; size: number } | undefined> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: { 'content-type': contentType }, limits: { files: 1, fileSize: limits.maxFileBytes, fields: 100, parts: 101, headerPairs: 50 } });
  } catch (err) {
    throw errors.badMultipart((err as Error).message);
  }
  let failure: Error | undefined;
  let written: Promise<string | undefined> | undefined;
  parser.on('file', (field, stream, info) => {
    stream.on('error', (err: Error) => (failure ??= errors.badMultipart(err.message)));
    stream.on('limit', () => (failure ??= errors.payloadTooLarge(limits.maxFileBytes, limits.setting)));
    if (written || !limits.fields.includes(field)) {
      stream.resume();
      return;
    }
    written = pipeline(stream, fs.createWriteStream(target, { flags: 'wx' })).then(() => info.filename);
    written.catch(() => {});
  });
  parser.on('filesLimit', () => (failure ??= errors.tooManyFiles(1)));
  parser.on('partsLimit', () => (failure ??= errors.tooManyFiles(1)));
  try {
    await pipeline(fs.createReadStream(source), parser);
  } catch (err) {
    throw failure ?? errors.badMultipart((err as Error).message);
  }
  let filename: string | undefined;
  try {
    filename = await written;
  } catch (err) {
    throw failure ?? errors.badMultipart((err as Error).message);
  }
  if (failure) throw failure;
  if (!written) return undefined;
  return { filename, size: (await fs.promises.stat(target)).size };
}
