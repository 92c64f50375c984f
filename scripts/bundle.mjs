#!/usr/bin/env node
// dist/bundle/exo-playbook.mjs: the CLI (dist/cli/main.js and what it imports, packages included)
// bundled, which bin/exo-playbook.js runs. Node then loads one module where it loaded ~210 (zod alone is
// 95 files, 64 of them locales the CLI never uses): a command starts in about half the CPU
// (docs/ARCHITECTURE.md; figures in docs/PERFORMANCE.md, "Round 3"). tsc's dist/ stays as it is (the
// bench and tests import it).
// Left out, loaded from node_modules when a run needs them: @azure/identity (large, only for the
// sign-ins that use it) and nodemailer (only for SMTP probes).
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export async function bundle(root = process.cwd()) {
  const outdir = join(root, 'dist', 'bundle');
  const { outputFiles } = await build({
    absWorkingDir: root,
    entryPoints: { 'exo-playbook': 'dist/cli/main.js' },
    outdir: 'dist/bundle',
    outExtension: { '.js': '.mjs' },
    // What the CLI imports only when a run needs it (the sign-in libraries, the simulator, SMTP,
    // Graph, the other commands) stays in chunks of its own, loaded then, as with tsc's dist/.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['@azure/identity', 'nodemailer'],
    // Packages written as CommonJS call require(): give the ES module one.
    banner: { js: "import { createRequire as __exoCreateRequire } from 'node:module';\nconst require = __exoCreateRequire(import.meta.url);" },
    logLevel: 'warning',
    write: false,
  });
  // A CLI may be running from this folder while it is rebuilt (`npm pack` runs the build during the
  // tests): a file whose content is unchanged is left alone, a changed one replaced by a rename (never
  // seen half-written), and only then are the previous build's chunks (names carry a hash) removed.
  const written = new Set();
  // Chunks first, the entry last: a CLI starting meanwhile never finds an entry whose chunks are missing.
  const entryLast = [...outputFiles].sort((a, b) => Number(a.path.endsWith('exo-playbook.mjs')) - Number(b.path.endsWith('exo-playbook.mjs')));
  for (const file of entryLast) {
    written.add(file.path);
    let same = false;
    try {
      same = Buffer.compare(readFileSync(file.path), Buffer.from(file.contents)) === 0;
    } catch {
      same = false;
    }
    if (same) continue;
    mkdirSync(dirname(file.path), { recursive: true });
    const temp = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temp, file.contents);
    renameSync(temp, file.path);
  }
  for (const entry of readdirSync(outdir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath ?? entry.path, entry.name);
    if (entry.isFile() && !written.has(path)) rmSync(path, { force: true });
  }
  return [...written].map((path) => relative(root, path));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle();
