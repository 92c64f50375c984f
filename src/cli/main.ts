/**
 * The process entry. The only place that turns outcomes and errors into exit codes (README "Exit codes").
 */
import { startEarly } from './early-start.js';

// A reader that stops early (`exo-playbook --help | head`, a pager closed): what is left of the output
// has nowhere to go, which is no reason to die with a stack trace, nor to stop a run half-way. The
// run goes on and ends with its own exit code; only the unread output is dropped.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

// `apply`, `plan`, `verify` against --target exchange: PowerShell starts now, while the modules below load and the playbook is
// validated (early-start.ts); it signs in only once the run claims it, and is killed if none does.
const early = await startEarly(process.argv.slice(2), process.env, process.cwd()).catch(() => null);
const { run } = await import('./program.js');
// Ctrl-C, SIGTERM, SIGHUP: exit 4 in every command (apply and rollback finish their write in flight first).
const { stopCommandsOnSignal } = await import('./engine-support.js');
stopCommandsOnSignal(process.stderr, (code) => process.exit(code));
try {
  process.exitCode = await run(process.argv.slice(2));
} finally {
  await early?.discard();
}
