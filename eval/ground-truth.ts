import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../src/paths.js';
import { darknetPhoto, fixtureDir } from '../harness/photos.js';

export type GtClass = 'face' | 'plate' | 'vehicle' | 'person';
export const GT_CLASSES: readonly GtClass[] = ['face', 'plate', 'vehicle', 'person'];

export interface GtObject {
  class: GtClass;
  /** x, y, width, height in pixels after EXIF rotation. */
  box: [number, number, number, number];
}

export interface GtImage {
  image: string;
  width: number;
  height: number;
  /** Classes labelled completely in this image; precision is only counted for these. */
  exhaustive: GtClass[];
  objects: GtObject[];
}

// packageRoot, not this file's folder: compiled copies under dist/ read the JSON from the source tree.
export const repoRoot = packageRoot;

export function loadGroundTruth(file = path.join(repoRoot, 'eval', 'ground-truth', 'fixtures.json')): GtImage[] {
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { images: GtImage[] }).images;
}

/** "fixtures:faces/uf_1.jpg" → ../shared/fixtures/faces/uf_1.jpg; "darknet:dog.jpg" → Debian's darknet photos (fetched on first use). */
export function resolveImage(key: string): string {
  const [root, rel] = key.split(':', 2);
  if (root === 'fixtures') return path.join(fixtureDir, rel);
  if (root === 'darknet') return darknetPhoto(rel);
  throw new Error(`unknown image root in ${key}`);
}
