/**
 * scripts/bundle.mjs, the bundled CLI bin/ runs: a rebuild while CLIs run from the same folder (the
 * tests run `exo-playbook` hundreds of times; `npm run build` may run meanwhile) must never leave a
 * moment without the files they load. Run `npm run build` first.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript build script, without type declarations.
import { bundle } from '../../scripts/bundle.mjs';

const root = path.resolve('.');
const outdir = path.join(root, 'dist', 'bundle');

beforeAll(() => {
  if (!existsSync(path.join(outdir, 'exo-playbook.mjs'))) execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
});

function files(): Map<string, number> {
  return new Map(
    readdirSync(outdir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => {
        const file = path.join(entry.parentPath, entry.name);
        return [path.relative(outdir, file), statSync(file).mtimeMs] as const;
      }),
  );
}

describe('the bundled CLI (scripts/bundle.mjs)', () => {
  it('a rebuild of unchanged sources rewrites no file, and removes what the build no longer makes', async () => {
    const before = files();
    expect(before.has('exo-playbook.mjs')).toBe(true);
    const stale = path.join(outdir, 'chunks', 'stale-0000TEST.mjs');
    writeFileSync(stale, 'export {};\n');
    try {
      const written = (await bundle(root)) as string[];
      expect(written).toContain(path.join('dist', 'bundle', 'exo-playbook.mjs'));
      const after = files();
      expect(existsSync(stale)).toBe(false);
      // Same files, none of them touched: a CLI starting meanwhile read the same bytes throughout.
      expect(after).toEqual(before);
    } finally {
      rmSync(stale, { force: true });
    }
    const version = spawnSync(process.execPath, ['bin/exo-playbook.js', '--version'], { encoding: 'utf8' });
    expect(version.status).toBe(0);
  });
});
