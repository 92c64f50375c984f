#!/usr/bin/env node
// dist/bundle/exo-playbook.mjs: the CLI (dist/cli/main.js and what it imports, packages included)
// bundled, which bin/exo-playbook.js runs. Node then loads one module where it loaded ~210 (zod alone is
// 95 files, 64 of them locales the CLI never uses): a command starts in about half the CPU
// (docs/PERFORMANCE.md, "The CLI bundled"). tsc's dist/ stays as it is (the bench and tests import it).
// Left out, loaded from node_modules when a run needs them: @azure/identity (large, only for the
// sign-ins that use it) and nodemailer (only for SMTP probes).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export async function bundle(root = process.cwd()) {
  // Chunk names carry a hash: a rebuild must not leave the previous build's chunks beside the new ones.
  rmSync(join(root, 'dist', 'bundle'), { recursive: true, force: true });
  await build({
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
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle();
