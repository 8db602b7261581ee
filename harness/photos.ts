// The one place that says where the photos used by tests, `npm run bench` and `npm run eval` live,
// and fetches the ones that can be fetched. Nothing else names these folders.
//   PIXVEIL_SHARED_DIR  ../shared beside the checkout: models/, fixtures/ (faces, plates), eval/ (openalpr)
//   MODEL_DIR           the ONNX weights (default <shared>/models)
//   FIXTURE_DIR         the labelled photos (default <shared>/fixtures)
//   EVAL_DATA_DIR       the labelled evaluation sets (default <shared>/eval)
//   DARKNET_DATA        Debian's darknet photos (dog.jpg, person.jpg, horses.jpg…); by default the
//                       installed package's folder, else extracted from its .deb into .cache/
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../src/paths.js';

export const sharedDir = process.env.PIXVEIL_SHARED_DIR ?? path.resolve(packageRoot, '..', 'shared');
export const modelDir = process.env.MODEL_DIR ?? path.join(sharedDir, 'models');
export const fixtureDir = process.env.FIXTURE_DIR ?? path.join(sharedDir, 'fixtures');
export const facesDir = path.join(fixtureDir, 'faces');
export const platesDir = path.join(fixtureDir, 'plates');
export const evalDataDir = process.env.EVAL_DATA_DIR ?? path.join(sharedDir, 'eval');

const DARKNET_PACKAGE_DATA = path.join('usr', 'share', 'darknet', 'data');
const installedDarknet = path.join(path.sep, DARKNET_PACKAGE_DATA);
const darknetCache = path.join(packageRoot, '.cache', 'darknet');
const cachedDarknet = path.join(darknetCache, DARKNET_PACKAGE_DATA);

/** Where the darknet photos are read from; `ensureDarknetPhotos()` makes sure they are there. */
export const darknetDir = process.env.DARKNET_DATA ?? (fs.existsSync(path.join(installedDarknet, 'dog.jpg')) ? installedDarknet : cachedDarknet);

function aptDownload(into: string): void {
  const download = () => execFileSync('apt-get', ['download', 'darknet'], { cwd: into, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    download();
  } catch {
    // A fresh machine has no package lists yet: apt-get download then cannot find the package.
    execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'pipe'] });
    download();
  }
}

/**
 * Extracts Debian's darknet package (its photos, without installing it or its OpenCV
 * dependencies) into .cache/darknet when neither DARKNET_DATA nor the installed package has them.
 * Safe to call from several processes: the extraction lands under a temporary name first.
 */
export function ensureDarknetPhotos(): string {
  if (fs.existsSync(path.join(darknetDir, 'dog.jpg'))) return darknetDir;
  if (process.env.DARKNET_DATA) throw new Error(`DARKNET_DATA=${process.env.DARKNET_DATA} has no dog.jpg: point it at the darknet package's data folder`);
  fs.mkdirSync(path.dirname(darknetCache), { recursive: true });
  const staging = fs.mkdtempSync(path.join(path.dirname(darknetCache), '.darknet-'));
  try {
    aptDownload(staging);
    const deb = fs.readdirSync(staging).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error('apt-get download darknet wrote no .deb');
    execFileSync('dpkg-deb', ['-x', path.join(staging, deb), staging]);
    fs.rmSync(path.join(staging, deb));
    if (!fs.existsSync(path.join(darknetCache, DARKNET_PACKAGE_DATA, 'dog.jpg'))) {
      fs.rmSync(darknetCache, { recursive: true, force: true });
      fs.renameSync(staging, darknetCache);
    }
  } catch (err) {
    const detail = err instanceof Error ? (err as Error & { stderr?: Buffer }).stderr?.toString().trim() || err.message : String(err);
    throw new Error(`Debian's darknet photos are missing and could not be fetched (${detail}): run "apt-get update && apt-get download darknet", or set DARKNET_DATA to a folder with dog.jpg`);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return darknetDir;
}

/** A darknet photo by name (dog.jpg, person.jpg, horses.jpg…), fetched on first use. */
export function darknetPhoto(name: string): string {
  return path.join(ensureDarknetPhotos(), name);
}
