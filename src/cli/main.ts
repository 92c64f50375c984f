/**
 * The process entry. The only place that turns outcomes and errors into exit codes (README "Exit codes").
 */
import { startEarly } from './early-start.js';

// `apply`, `plan`, `verify` against --target exchange: PowerShell starts now, while the modules below load and the playbook is
// validated (early-start.ts); it signs in only once the run claims it, and is killed if none does.
const early = await startEarly(process.argv.slice(2), process.env, process.cwd()).catch(() => null);
const { run } = await import('./program.js');
try {
  process.exitCode = await run(process.argv.slice(2));
} finally {
  await early?.discard();
}
