/**
 * `exo-playbook validate <playbook...>`: schema and semantics, no connection. Every file is
 * checked and every problem reported; exit 0 only when all files are valid.
 */
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { CliIO } from './io.js';
import type { Wrap } from './program.js';
import { ExitCode } from '../errors.js';
import { formatProblem, PlaybookInvalid, type Problem } from '../playbook/problems.js';

type ProblemRecord = { file: string; line: number; col: number; message: string; path: string; hint?: string };

interface FileReport {
  file: string;
  valid: boolean;
  problems: ProblemRecord[];
  /** Sign-in variables that are not set here (errors with --require-env). */
  warnings: ProblemRecord[];
}

export function registerValidate(program: Command, io: CliIO, wrap: Wrap): void {
  program
    .command('validate')
    .description('check playbooks (schema, references, addresses, secrets present) without connecting')
    .argument('<playbook...>', 'playbook YAML files')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--require-env', 'treat unset sign-in variables (tenant.auth) as errors: use on the machine that runs against the tenant')
    .addHelpText(
      'after',
      `
Text output: one "ok  <file>" line per valid file on stdout; each problem on stderr as
"file:line:col: message (path)" with a hint line where there is a fix. Exit 0 when every file
is valid, 1 otherwise. Environment variables the playbooks reference must be set, except those
under tenant.auth: they are only needed to sign in to a real tenant, so an unset one is a warning
("file:line:col: warning: ...") unless --require-env makes it an error.`,
    )
    .action(
      wrap(async (files: string[], options: { format: 'text' | 'json'; requireEnv?: boolean }) => {
        const reports: FileReport[] = [];
        for (const file of files) reports.push(await validateFile(file, io, options.requireEnv ? 'require' : 'warn'));
        if (options.format === 'json') {
          io.stdout.write(JSON.stringify({ files: reports }, null, 2) + '\n');
        } else {
          for (const report of reports) {
            if (report.warnings.length) io.stderr.write(report.warnings.map((p) => formatRecord({ ...p, message: `warning: ${p.message}` })).join('\n') + '\n');
            if (report.valid) io.stdout.write(`ok  ${report.file}\n`);
            else
              io.stderr.write(
                report.problems.map(formatRecord).join('\n') + '\n',
              );
          }
        }
        return reports.every((r) => r.valid) ? ExitCode.ok : ExitCode.error;
      }),
    );
}

async function validateFile(file: string, io: CliIO, signInEnv: 'require' | 'warn'): Promise<FileReport> {
  try {
    // Loaded on use: the loader (zod, js-yaml) is not needed for --help or other commands.
    const { loadPlaybook } = await import('../playbook/load.js');
    const loaded = await loadPlaybook(path.resolve(io.cwd, file), { env: io.env, signInEnv, checkSignInFiles: signInEnv === 'require', runFiles: signInEnv }).catch((error: unknown) => {
      // Messages name the file as the user typed it, not the absolute path we read.
      if (error instanceof PlaybookInvalid) throw new PlaybookInvalid(error.problems.map((p) => relativeTo(p, io.cwd)));
      throw error;
    });
    return { file, valid: true, problems: [], warnings: loaded.warnings.map((p) => toRecord(relativeTo(p, io.cwd))) };
  } catch (error) {
    if (!(error instanceof PlaybookInvalid)) throw error;
    return { file, valid: false, problems: error.problems.map(toRecord), warnings: [] };
  }
}

function toRecord(p: Problem): ProblemRecord {
  return { file: p.location.file, line: p.location.line, col: p.location.col, message: p.message, path: p.path, ...(p.hint ? { hint: p.hint } : {}) };
}

function formatRecord(p: ProblemRecord): string {
  return formatProblem({ location: { file: p.file, line: p.line, col: p.col }, message: p.message, path: p.path, ...(p.hint ? { hint: p.hint } : {}) });
}

function relativeTo(problem: Problem, cwd: string): Problem {
  const file = problem.location.file;
  const relative = path.isAbsolute(file) ? path.relative(cwd, file) : file;
  return { ...problem, location: { ...problem.location, file: relative.startsWith('..') ? file : relative } };
}
