// Models made here from another manifest's file (scripts/quantize/): which exist for a source model,
// and whether a file on disk is one this recipe made from that source (its provenance record).
import fs from 'node:fs';
import path from 'node:path';
import type { ModelManifest } from './manifest.js';

export type DerivedPrecision = NonNullable<ModelManifest['derived']>['precision'];

/** The float and int8 manifests made from `source` (none for models without a recipe). */
export function derivedVariants(manifests: Map<string, ModelManifest>, source: string): Partial<Record<DerivedPrecision, ModelManifest>> {
  const variants: Partial<Record<DerivedPrecision, ModelManifest>> = {};
  for (const m of manifests.values()) if (m.derived?.from === source) variants[m.derived.precision] = m;
  return variants;
}

/** What the script writes beside each file it makes (scripts/quantize/plate_models.py). */
export interface ProvenanceRecord {
  file: string;
  sha256: string;
  precision: DerivedPrecision;
  from: { manifest: string; file: string; sha256: string };
}

export function provenancePath(modelDir: string, manifest: ModelManifest): string {
  return path.join(modelDir, manifest.derived!.provenance);
}

/**
 * Why a derived file beside its record cannot be used, or null when it can: the record must be
 * there, name this file's sha256 (not a half-written or hand-edited file), and say it was made
 * from the source file the manifest names (fromSha256), so a changed source means a rebuild.
 */
export function provenanceProblem(modelDir: string, manifest: ModelManifest, fileSha256: string): string | null {
  const where = provenancePath(modelDir, manifest);
  let record: ProvenanceRecord;
  try {
    record = JSON.parse(fs.readFileSync(where, 'utf8')) as ProvenanceRecord;
  } catch (err) {
    return `its provenance record ${where} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  if (record.sha256 !== fileSha256) return `its sha256 ${fileSha256} is not the one its provenance record ${where} names (${String(record.sha256)})`;
  if (record.from?.sha256 !== manifest.derived!.fromSha256) {
    return `it was made from a file with sha256 ${String(record.from?.sha256)}, not ${manifest.derived!.from}'s ${manifest.derived!.fromSha256}`;
  }
  return null;
}
