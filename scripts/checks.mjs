#!/usr/bin/env node
// `npm test` runs typecheck, lint and build at the same time (they read the sources and only build
// writes, to dist/), then vitest. Usage: node scripts/checks.mjs <npm script>...
// Each script's output is printed in one piece when it ends; the exit code is 1 when any failed.
import { spawn } from 'node:child_process';

const names = process.argv.slice(2);
const npmCli = process.env.npm_execpath;

function run(name) {
  // Under npm, npm_execpath is npm's own CLI script: run it with this node (no shell, any platform).
  const [command, args] = npmCli && /\.[cm]?js$/.test(npmCli) ? [process.execPath, [npmCli, 'run', '--silent', name]] : [process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', name]];
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' && command === 'npm.cmd' });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (error) => resolve({ name, ok: false, output: `${output}${error.message}\n`, ms: Date.now() - started }));
    child.on('close', (code, signal) => resolve({ name, ok: code === 0, output: signal ? `${output}killed by ${signal}\n` : output, ms: Date.now() - started }));
  });
}

const results = await Promise.all(names.map(run));
for (const r of results) {
  console.log(`${r.ok ? 'ok  ' : 'FAIL'} npm run ${r.name} (${(r.ms / 1000).toFixed(1)} s)`);
  if (r.output.trim()) console.log(r.output.trimEnd());
}
process.exitCode = results.every((r) => r.ok) ? 0 : 1;
