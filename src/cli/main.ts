/**
 * The process entry. The only place that turns outcomes and errors into exit codes (README "Exit codes").
 */
import { run } from './program.js';

const code = await run(process.argv.slice(2));
process.exitCode = code;
