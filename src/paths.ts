import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'models'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`pixveil: cannot find the package root above ${start}`);
    dir = parent;
  }
}

/** The checkout or installed package: works from src/ under tsx and from dist/src/ once compiled. */
export const packageRoot = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));
export const manifestDir = path.join(packageRoot, 'models');
