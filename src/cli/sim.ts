/**
 * `exo-playbook sim init <state.json>`: make a simulated tenant (deterministic by seed) to run
 * playbooks against with `--target sim:<state.json>`. `exo-playbook sim show <state.json>`: what a
 * state file holds (organization switch, overrides, senders).
 */
import { access, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { CliIO } from './io.js';
import type { Wrap } from './program.js';
import { ExitCode, InputError } from '../errors.js';
import { generateTenant, MAX_MAILBOXES, MIN_MAILBOXES } from '../exchange/simulator/generate.js';
import { readStateFile, writeStateFile } from '../exchange/simulator/state-file.js';
import { describeTenant, summarizeTenant } from '../exchange/simulator/summary.js';
import { clientsReportCsv, requestReportCsv } from '../exchange/simulator/usage-export.js';

interface InitOptions {
  mailboxes: number;
  seed: string;
  organization: string;
  orgSmtpAuth: 'enabled' | 'disabled';
  clock?: string;
  force?: boolean;
  format: 'text' | 'json';
}

function parseMailboxes(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < MIN_MAILBOXES || n > MAX_MAILBOXES) {
    throw new InvalidArgumentError(`use a whole number from ${MIN_MAILBOXES} to ${MAX_MAILBOXES}.`);
  }
  return n;
}

function parseClock(value: string): string {
  if (Number.isNaN(Date.parse(value))) throw new InvalidArgumentError('use an ISO-8601 date, e.g. 2026-11-20T09:00:00Z.');
  return new Date(value).toISOString();
}

export function registerSim(program: Command, io: CliIO, wrap: Wrap): void {
  const sim = program.command('sim').description('make and inspect simulated tenants (for --target sim:<state.json>)');

  sim
    .command('init')
    .description('write a new simulated tenant to a state file')
    .argument('<state.json>', 'the state file to create')
    .addOption(new Option('--mailboxes <n>', `how many mailboxes (${MIN_MAILBOXES}-${MAX_MAILBOXES})`).default(500).argParser(parseMailboxes))
    .addOption(new Option('--seed <seed>', 'the same seed makes the same tenant').default('1'))
    .addOption(new Option('--organization <name>', 'the tenant name').default('contoso.onmicrosoft.com'))
    .addOption(
      new Option('--org-smtp-auth <state>', 'SMTP AUTH for the organization (Set-TransportConfig -SmtpClientAuthenticationDisabled)')
        .choices(['enabled', 'disabled'])
        .default('enabled'),
    )
    .addOption(new Option('--clock <iso>', 'fix the simulated clock (default: the real clock)').argParser(parseClock))
    .addOption(new Option('--force', 'replace an existing file'))
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .addHelpText(
      'after',
      `
The state file format is described in docs/STATE-FILE.md. Exit 0 when written, 1 when the file
exists (without --force) or an option is wrong.`,
    )
    .action(
      wrap(async (file: string, options: InitOptions) => {
        const target = path.resolve(io.cwd, file);
        if (await exists(target)) {
          if (!options.force) throw new InputError(`${file} already exists; pass --force to replace it (or choose another file name)`);
          await assertReplaceable(target, file);
        }
        const state = generateTenant({
          mailboxes: options.mailboxes,
          seed: options.seed,
          organization: options.organization,
          orgSmtpAuthDisabled: options.orgSmtpAuth === 'disabled',
          ...(options.clock ? { clock: options.clock } : {}),
          usageDetail: true,
        });
        await writeStateFile(target, state).catch((error: Error) => {
          throw new InputError(`cannot write ${file}: ${error.message} (check that the directory exists and is writable)`);
        });
        const summary = summarizeTenant(state);
        if (options.format === 'json') io.stdout.write(JSON.stringify({ file: target, ...summary }, null, 2) + '\n');
        else io.stdout.write(`Wrote ${file}. ${describeTenant(summary)}\nUse it with: --target sim:${file}\n`);
        return ExitCode.ok;
      }),
    );

  sim
    .command('export-usage')
    .description('write the usage file an admin would download for a simulated tenant (to feed smtp-auth/usage)')
    .argument('<state.json>', 'the state file')
    .addOption(
      new Option('--kind <kind>', 'clients-report: the admin center SMTP AUTH clients report (UTF-8 CSV); request-report: the historical search download (SmtpCSReport, UTF-16 CSV)')
        .choices(['clients-report', 'request-report'])
        .default('clients-report'),
    )
    .requiredOption('--out <file>', 'the CSV file to write')
    .addOption(new Option('--days <n>', 'the period covered, back from the tenant clock (1-90)').default(30).argParser(parseDays))
    .addOption(new Option('--force', 'replace an existing file'))
    .action(
      wrap(async (file: string, options: { kind: 'clients-report' | 'request-report'; out: string; days: number; force?: boolean }) => {
        const state = await readStateFile(path.resolve(io.cwd, file));
        const out = path.resolve(io.cwd, options.out);
        if (!options.force && (await exists(out))) throw new InputError(`${options.out} already exists; pass --force to replace it`);
        const bytes = options.kind === 'clients-report' ? clientsReportCsv(state, options.days) : requestReportCsv(state, options.days);
        await writeFile(out, bytes).catch((error: Error) => {
          throw new InputError(`cannot write ${options.out}: ${error.message}`);
        });
        io.stdout.write(`Wrote ${options.out} (${options.kind}, last ${options.days} day(s), ${bytes.length} bytes)\n`);
        return ExitCode.ok;
      }),
    );

  sim
    .command('show')
    .description('summarize a simulated tenant state file')
    .argument('<state.json>', 'the state file')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(
      wrap(async (file: string, options: { format: 'text' | 'json' }) => {
        const summary = summarizeTenant(await readStateFile(path.resolve(io.cwd, file)));
        if (options.format === 'json') io.stdout.write(JSON.stringify(summary, null, 2) + '\n');
        else io.stdout.write(`${describeTenant(summary)}\n`);
        return ExitCode.ok;
      }),
    );
}

/**
 * --force replaces a simulated tenant, never anything else: a playbook, a plan or a state file too
 * broken to recognise stays, and the user decides what to do with it.
 */
async function assertReplaceable(target: string, file: string): Promise<void> {
  const info = await stat(target);
  if (info.isFile() && info.size === 0) return;
  const refuse = (why: string): never => {
    throw new InputError(`${file} ${why}; sim init --force replaces only a simulated tenant state file`, undefined, 'choose another file name, or move the file away yourself if it really should go');
  };
  if (!info.isFile()) refuse('is not a regular file');
  try {
    await readStateFile(target);
  } catch {
    refuse('is not a simulated tenant state file');
  }
}

function parseDays(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 90) throw new InvalidArgumentError('use a whole number of days from 1 to 90.');
  return n;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
