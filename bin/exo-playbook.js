#!/usr/bin/env node
// The installed package ships dist/; a checkout builds it with `npm ci` (prepare) or `npm run build`.
// dist/bundle/exo-playbook.mjs is the CLI bundled (scripts/bundle.mjs) (scripts/bundle.mjs): one module to load, not ~210.
import { existsSync } from 'node:fs';

const main = new URL('../dist/bundle/exo-playbook.mjs', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('exo-playbook: dist/ is missing in this checkout: run `npm run build` (or `npm ci`) first\n');
  process.exitCode = 1;
} else {
  await import(main.href);
}
