/**
 * The package's folder (the repository, or the installed package): the nearest folder above this
 * module that holds package.json. Found by walking up rather than by a fixed number of `..`, because
 * the same code runs from src/ (tests), dist/ (tsc's output) and dist/bundle/ (the bundle
 * bin/ runs, scripts/bundle.mjs), each at another depth.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`exo-playbook: no package.json above ${start}`);
  }
}

export const packageRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
