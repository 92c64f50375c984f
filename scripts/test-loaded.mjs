#!/usr/bin/env node
// `npm run test:loaded`: the test suite on a busy machine, as a shared CI runner sees it. Starts N
// CPU-burning processes (default 4; `--burners N` or EXO_PLAYBOOK_BURNERS), runs `npm test` (or the
// command after `--`) beside them, prints the load average while it runs and the elapsed time, and
// ends the burners whatever happens: when the command ends, on Ctrl-C or a kill, and by themselves
// when this script is gone (each burner checks its parent). Exit code: the command's.
//   npm run test:loaded
//   npm run test:loaded -- --burners 2 -- npx vitest run test/e2e/engine.test.ts
// docs/PERFORMANCE.md, "Test suite on a busy machine".
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';

const argv = process.argv.slice(2);
const dashes = argv.indexOf('--');
const own = dashes < 0 ? argv : argv.slice(0, dashes);
const command = dashes < 0 ? ['npm', 'test'] : argv.slice(dashes + 1);
const at = own.indexOf('--burners');
const burnersText = at >= 0 ? own[at + 1] : (process.env.EXO_PLAYBOOK_BURNERS ?? '4');
const burners = Number(burnersText);
const extra = own.filter((_, i) => at < 0 || (i !== at && i !== at + 1));
if (!Number.isInteger(burners) || burners < 0 || burners > 64 || extra.length > 0) {
  console.error(`usage: node scripts/test-loaded.mjs [--burners N (0-64, default 4)] [-- command...]; got ${own.join(' ') || '(nothing)'}`);
  process.exit(1);
}
if (command.length === 0) {
  console.error('usage: node scripts/test-loaded.mjs [--burners N] [-- command...]: the command after -- is empty');
  process.exit(1);
}

// A busy loop that looks up once a second whether its parent (this script) is still there.
const BURN = 'const p = process.ppid; let next = Date.now() + 1000; for (;;) { if (Date.now() > next) { if (process.ppid !== p) process.exit(0); next = Date.now() + 1000; } }';
const pids = [];
for (let i = 0; i < burners; i += 1) {
  const child = spawn(process.execPath, ['-e', BURN], { stdio: 'ignore' });
  pids.push(child.pid);
}

let ended = false;
function endBurners() {
  if (ended) return;
  ended = true;
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
process.on('exit', endBurners);

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const started = Date.now();
const minutes = () => ((Date.now() - started) / 60_000).toFixed(1);
let peak = loadavg()[0];
console.log(`test:loaded: ${burners} CPU-burning processes beside \`${command.join(' ')}\` on ${availableParallelism()} CPUs; load average (1, 5, 15 min) at start: ${load()}`);
const sampler = setInterval(() => {
  peak = Math.max(peak, loadavg()[0]);
  console.log(`test:loaded: ${minutes()} min, load average ${load()}`);
}, 60_000);

const child = spawn(command[0], command.slice(1), { stdio: 'inherit', shell: process.platform === 'win32' });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    endBurners();
    child.kill(signal);
  });
}
const code = await new Promise((resolve) => {
  child.on('error', (error) => {
    console.error(`test:loaded: could not start ${command[0]}: ${error.message}`);
    resolve(1);
  });
  child.on('close', (c, signal) => resolve(signal ? 1 : (c ?? 1)));
});
clearInterval(sampler);
endBurners();
peak = Math.max(peak, loadavg()[0]);
const seconds = ((Date.now() - started) / 1000).toFixed(0);
console.log(`test:loaded: \`${command.join(' ')}\` exited ${code} after ${seconds} s (${minutes()} min) beside ${burners} burners; load average at end ${load()}, highest 1-min value seen ${peak.toFixed(2)}`);
process.exitCode = code;
