#!/usr/bin/env node
// `npm test`: typecheck, lint and build at the same time (they read the sources and only build
// writes, to dist/), then vitest. Usage: node scripts/checks.mjs <npm script>... [--then <command>...]
// Each script's output is printed in one piece when it ends; the exit code is 1 when any failed.
//
// typecheck and build together run as one process, scripts/typecheck-build.mjs: the same two
// TypeScript programs and dist/, each file parsed once. With --then, the command (vitest) starts
// as soon as dist/ is built, while the typecheck and lint go on beside it (the machine is never
// left with one check running alone on one core); their output then waits for the command's end,
// and the exit code is 1 when a check or the command failed. A failed build never starts it.
// docs/PERFORMANCE.md, "Test suite, round 3".
import { spawn } from 'node:child_process';
import { delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const thenAt = argv.indexOf('--then');
const requested = thenAt < 0 ? argv : argv.slice(0, thenAt);
const then = thenAt < 0 ? [] : argv.slice(thenAt + 1);
const together = requested.includes('typecheck') && requested.includes('build');
const TOGETHER = 'typecheck + build';
const names = together ? [TOGETHER, ...requested.filter((n) => n !== 'typecheck' && n !== 'build')] : requested;
const npmCli = process.env.npm_execpath;

function npmRun(args) {
  // Under npm, npm_execpath is npm's own CLI script: run it with this node (no shell, any platform).
  return npmCli && /\.[cm]?js$/.test(npmCli) ? [process.execPath, [npmCli, ...args]] : [process.platform === 'win32' ? 'npm.cmd' : 'npm', args];
}

/** Runs one check; `onBuilt` is called once dist/ is written (true) or could not be (false). */
function run(name, onBuilt) {
  const [command, args] = name === TOGETHER ? [process.execPath, [fileURLToPath(new URL('typecheck-build.mjs', import.meta.url))]] : npmRun(['run', '--silent', name]);
  const started = Date.now();
  return new Promise((resolve) => {
    const stdio = ['ignore', 'pipe', 'pipe', ...(name === TOGETHER ? ['ipc'] : [])];
    const child = spawn(command, args, { stdio, shell: process.platform === 'win32' && command === 'npm.cmd' });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('message', (message) => onBuilt?.(message?.built === true));
    const end = (result) => {
      if (name === 'build' || name === TOGETHER) onBuilt?.(result.ok);
      resolve(result);
    };
    child.on('error', (error) => end({ name, ok: false, output: `${output}${error.message}\n`, ms: Date.now() - started }));
    child.on('close', (code, signal) => end({ name, ok: code === 0, output: signal ? `${output}killed by ${signal}\n` : output, ms: Date.now() - started }));
  });
}

function print(results) {
  for (const r of results) {
    const label = r.name === TOGETHER ? `${TOGETHER} (scripts/typecheck-build.mjs)` : `npm run ${r.name}`;
    console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${label} (${(r.ms / 1000).toFixed(1)} s)`);
    if (r.output.trim()) console.log(r.output.trimEnd());
  }
}

/** The --then command, output straight to this terminal; resolves with its exit code. */
function runThen() {
  const [command, ...args] = then;
  // A bare name (vitest) is found in node_modules/.bin, as npm scripts find it.
  const bin = fileURLToPath(new URL('../node_modules/.bin', import.meta.url));
  const key = Object.keys(process.env).find((k) => k.toUpperCase() === 'PATH') ?? 'PATH'; // Windows: Path
  const env = { ...process.env, [key]: [bin, process.env[key]].filter(Boolean).join(delimiter) };
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', env, shell: process.platform === 'win32' });
    child.on('error', (error) => {
      console.error(error.message);
      resolve(1);
    });
    child.on('close', (code, signal) => resolve(signal ? 1 : (code ?? 1)));
  });
}

const hasBuild = names.includes('build') || names.includes(TOGETHER);
let built;
const builtOnce = new Promise((resolve) => (built = resolve));
if (!hasBuild) built(true);
let settled = false;
const onBuilt = (ok) => {
  if (!settled) {
    settled = true;
    built(ok);
  }
};

const checks = Promise.all(names.map((name) => run(name, onBuilt)));
let thenCode = 0;
if (then.length > 0) {
  // Started once dist/ is ready; a build that failed leaves it unstarted (as `checks && vitest` did).
  if (await builtOnce) thenCode = await runThen();
}
const results = await checks;
print(results);
process.exitCode = results.every((r) => r.ok) && thenCode === 0 ? 0 : 1;
