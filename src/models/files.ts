import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { errors } from '../errors.js';
import { provenanceProblem } from './derived.js';
import type { ModelManifest } from './manifest.js';

export function modelPath(modelDir: string, manifest: ModelManifest): string {
  return path.join(modelDir, manifest.file);
}

export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `stale`: a derived file (scripts/quantize/) without a matching provenance record, or made from another source file. */
export type ModelFileState = 'ok' | 'missing' | 'checksum-mismatch' | 'stale';

export async function modelFileState(modelDir: string, manifest: ModelManifest): Promise<ModelFileState> {
  const file = modelPath(modelDir, manifest);
  if (!fs.existsSync(file)) return 'missing';
  const actual = await sha256File(file);
  // A derived file is checked against the record made with it: its calibrated bytes may differ by CPU.
  if (manifest.derived) return provenanceProblem(modelDir, manifest, actual) === null ? 'ok' : 'stale';
  return actual === manifest.sha256 ? 'ok' : 'checksum-mismatch';
}

/** Throws MODEL_MISSING / MODEL_CHECKSUM with the file, the place looked and where to get it. */
export async function verifyModelFile(modelDir: string, manifest: ModelManifest): Promise<string> {
  const file = modelPath(modelDir, manifest);
  if (!fs.existsSync(file)) throw errors.modelMissing(manifest.name, file, manifest.source.url);
  const actual = await sha256File(file);
  if (actual !== manifest.sha256) throw errors.modelChecksum(manifest.name, file, manifest.sha256, actual, manifest.source.url);
  return file;
}
