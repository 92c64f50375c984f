#!/usr/bin/env node
// The installed package ships dist/; a checkout builds it with `npm ci` (prepare) or `npm run build`.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('exo-playbook: dist/ is missing in this checkout: run `npm run build` (or `npm ci`) first\n');
  process.exitCode = 1;
} else {
  await import(main.href);
}
