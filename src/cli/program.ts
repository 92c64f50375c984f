import { Command, CommanderError } from 'commander';
import { ExitCode, ExoPlaybookError, InputError } from '../errors.js';
import { processIO, type CliIO } from './io.js';
import { PlaybookInvalid, formatProblem } from '../playbook/problems.js';
import path from 'node:path';
import { VERSION } from '../version.js';
import { CmdletFailure } from '../exchange/session.js';
import { describeServiceError } from '../exchange/service-error.js';
import { registerValidate } from './validate.js';
import { registerPlan } from './plan.js';
import { registerApply } from './apply.js';
import { registerVerify } from './verify.js';
import { registerRollback } from './rollback.js';
import { registerSim } from './sim.js';
import { registerDiff } from './diff.js';
import { registerExplain } from './explain.js';
import { registerProbe } from './probe.js';
import { registerFleet } from './fleet.js';
import { addExamples } from './examples.js';
import { useEnvironmentProxy } from '../net/proxy.js';

/** A command handler resolves to the exit code; it never calls process.exit. */
export type CommandResult = Promise<number>;

export function buildProgram(io: CliIO, setExit: (code: number) => void): Command {
  const program = new Command('exo-playbook')
    .description('Run declarative YAML playbooks against Exchange Online PowerShell: audit, disable and allowlist SMTP AUTH, and prove it.')
    .version(VERSION, '--version')
    .option('--no-color', 'no ANSI colour (also NO_COLOR)')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();
  program.addHelpText(
    'after',
    `
Exit codes:
  0  success: valid, no changes pending, compliant
  1  error: bad input, connection or unexpected failure
  2  plan has changes / verify found drift / diff found changes
  3  apply finished but some changes failed
  4  refused by a safety guard (lock held, stale plan, would break active senders, no confirmation),
     or stopped by Ctrl-C / SIGTERM / SIGHUP (every command)`,
  );
  const wrap =
    (handler: (...args: never[]) => CommandResult) =>
    async (...args: unknown[]) => {
      setExit(await handler(...(args as never[])));
    };
  registerValidate(program, io, wrap);
  registerPlan(program, io, wrap);
  registerApply(program, io, wrap);
  registerVerify(program, io, wrap);
  registerRollback(program, io, wrap);
  registerSim(program, io, wrap);
  registerDiff(program, io, wrap);
  registerExplain(program, io, wrap);
  registerProbe(program, io, wrap);
  registerFleet(program, io, wrap);
  addExamples(program);
  return program;
}

export type Wrap = (handler: (...args: never[]) => CommandResult) => (...args: unknown[]) => Promise<void>;

/** Parse argv, run the command, and return the process exit code. */
export async function run(argv: string[], io: CliIO = processIO(argv.includes('--no-color'))): Promise<number> {
  let code: number = ExitCode.ok;
  const program = buildProgram(io, (c) => (code = c));
  try {
    // HTTPS_PROXY / HTTP_PROXY / NO_PROXY for every HTTP call (src/net/proxy.ts).
    await useEnvironmentProxy(io.env);
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    return reportError(error, io);
  }
}

export function reportError(error: unknown, io: CliIO): number {
  if (error instanceof CommanderError) {
    // help and --version exit 0; usage errors were already printed by commander.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.error;
  }
  // Files are named relative to where the user is, as validate names them.
  const relative = (file: string) => {
    const r = path.relative(io.cwd, file);
    return path.isAbsolute(file) && !r.startsWith('..') ? r : file;
  };
  if (error instanceof PlaybookInvalid) {
    io.stderr.write(error.problems.map((p) => formatProblem({ ...p, location: { ...p.location, file: relative(p.location.file) } })).join('\n') + '\n');
    return error.exitCode;
  }
  if (error instanceof InputError && error.location) {
    const { line, col } = error.location;
    io.stderr.write(`${relative(error.location.file)}:${line}:${col}: ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ''}\n`);
    return error.exitCode;
  }
  if (error instanceof ExoPlaybookError) {
    io.stderr.write(`error: ${error.message}\n`);
    if (error instanceof InputError && error.hint) io.stderr.write(`  hint: ${error.hint}\n`);
    const details = (error as { details?: string[] }).details;
    if (details?.length) io.stderr.write(details.map((d) => `  - ${d}`).join('\n') + '\n');
    return error.exitCode;
  }
  if (error instanceof CmdletFailure) {
    // The service refused a read (or a call outside apply's journaled writes): its own words, no stack.
    io.stderr.write(`error: ${error.cmdlet} failed: ${describeServiceError(error.record)}\n`);
    return ExitCode.error;
  }
  // A bug: say so, with the stack.
  io.stderr.write(`internal error (please report): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return ExitCode.error;
}
