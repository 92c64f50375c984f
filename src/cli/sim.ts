/**
 * `exo-playbook sim init <state.json>`: make a simulated tenant (deterministic by seed) to run
 * playbooks against with `--target sim:<state.json>`. `exo-playbook sim init-fleet <dir>`: many of
 * them and an inventory that targets them. `exo-playbook sim show <state.json>`: what a state file
 * holds (organization switch, overrides, senders).
 */
import { access, stat, utimes } from 'node:fs/promises';
import { writeOutputFileSync } from '../files/regular-file.js';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { CliIO } from './io.js';
import type { Wrap } from './program.js';
import { ExitCode, InputError } from '../errors.js';
import { generateTenant, MAX_MAILBOXES, MIN_MAILBOXES } from '../exchange/simulator/generate.js';
import { FLEET_USAGE_DAYS, MAX_FLEET_TENANTS, MIN_FLEET_TENANTS, shippedFleetPlaybook, writeFleet } from '../exchange/simulator/fleet.js';
import { packageRoot } from '../package-root.js';
import { readStateFile, writeStateFile } from '../exchange/simulator/state-file.js';
import { describeTenant, summarizeTenant } from '../exchange/simulator/summary.js';
import { clientsReportCsv, exportPeriod, requestReportCsv } from '../exchange/simulator/usage-export.js';

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
    .command('init-fleet')
    .description('write simulated tenants and an inventory that targets them (for fleet runs)')
    .argument('<dir>', 'a new (or empty) folder for the fleet')
    .addOption(new Option('--tenants <n>', `how many tenants (${MIN_FLEET_TENANTS}-${MAX_FLEET_TENANTS})`).default(25).argParser(parseTenants))
    .addOption(new Option('--mailboxes <n>', `typical mailboxes per tenant; each has half to one and a half times this (${MIN_MAILBOXES}-${MAX_MAILBOXES})`).default(400).argParser(parseMailboxes))
    .addOption(new Option('--seed <seed>', 'the same seed (and --clock) makes the same fleet').default('1'))
    .addOption(new Option('--clock <iso>', "the tenants' simulated clock (default: now)").argParser(parseClock))
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .addHelpText(
      'after',
      `
Writes <dir>/inventory.yaml, <dir>/tenants/<id>.json, <dir>/allowlists/<id>.txt and
<dir>/usage/<id>.csv (each tenant's SMTP AUTH clients report, the lockout guard's evidence), and a
copy of the shipped fleet playbook (playbooks/smtp-auth-fleet.yaml) when the package has one.
The stub ExchangeOnlineManagement module serves the same tenants per organization with
EXO_STUB_STATE_DIR=<dir>/tenants.

Examples:
  exo-playbook sim init-fleet fleet --tenants 25 --mailboxes 400
  exo-playbook sim init-fleet big-fleet --tenants 1000 --mailboxes 500 --seed 7

Exit 0 when written, 1 when the folder is not empty or an option is wrong.`,
    )
    .action(
      wrap(async (dir: string, options: { tenants: number; mailboxes: number; seed: string; clock?: string; format: 'text' | 'json' }) => {
        const target = path.resolve(io.cwd, dir);
        const shipped = await shippedFleetPlaybook(packageRoot);
        // Its editor modeline names the schema beside it in playbooks/: point it there from the fleet's folder.
        const schema = path.relative(target, path.join(packageRoot, 'playbooks', 'playbook.schema.json')).split(path.sep).join('/');
        const playbook = shipped && { ...shipped, text: shipped.text.replace(/^(# yaml-language-server: \$schema=)\.\/playbook\.schema\.json$/m, `$1${schema}`) };
        const fleetOptions = {
          tenants: options.tenants,
          mailboxes: options.mailboxes,
          seed: options.seed,
          // Fixed at creation (to the second), like the demo's tenant: the usage reports stay as old as they were.
          clock: options.clock ?? new Date(Math.floor(Date.now() / 1000) * 1000).toISOString(),
          schemaPath: path.relative(target, path.join(packageRoot, 'schemas', 'inventory.schema.json')).split(path.sep).join('/'),
        };
        const tenants = await writeFleet(target, fleetOptions, playbook).catch((error: Error) => {
          if (error instanceof InputError) throw error;
          throw new InputError(`cannot write the fleet into ${dir}: ${error.message}`);
        });
        const sizes = tenants.map((t) => t.mailboxes);
        const refused = tenants.filter((t) => t.unlisted.length > 0);
        if (options.format === 'json') {
          const summary = tenants.map((t) => ({
            id: t.id,
            tenantId: t.tenantId,
            tags: t.tags,
            mailboxes: t.mailboxes,
            organizationSmtpAuthDisabled: t.organizationSmtpAuthDisabled,
            senders: t.senders,
            allowlisted: t.allowlist.length,
            unlisted: t.unlisted,
          }));
          io.stdout.write(JSON.stringify({ dir: target, inventory: path.join(target, 'inventory.yaml'), playbook: playbook ? path.join(target, playbook.name) : null, tenants: summary }, null, 2) + '\n');
          return ExitCode.ok;
        }
        const lines = [
          `Wrote ${dir}: ${tenants.length} simulated tenant(s), ${Math.min(...sizes)}-${Math.max(...sizes)} mailboxes each, ${tenants.reduce((n, t) => n + t.senders, 0)} SMTP AUTH senders in all.`,
          `  ${path.join(dir, 'inventory.yaml')}   the inventory (target sim:tenants/<id>.json per tenant; vars allowlist, usageReport)`,
          `  ${path.join(dir, 'tenants')}/          the tenants (for the stub module: EXO_STUB_STATE_DIR=${path.join(dir, 'tenants')})`,
          `  ${path.join(dir, 'allowlists')}/       one allowlist per tenant`,
          `  ${path.join(dir, 'usage')}/            each tenant's SMTP AUTH clients report (last ${FLEET_USAGE_DAYS} days)`,
          `${refused.length} tenant(s) have active senders outside their allowlist (the lockout guard refuses their apply): ${refused.map((t) => t.id).join(', ') || 'none'}.`,
          playbook
            ? `Copied the fleet playbook: ${path.join(dir, playbook.name)}`
            : 'No fleet playbook was copied: this package has no playbooks/smtp-auth-fleet.yaml.',
        ];
        io.stdout.write(`${lines.join('\n')}\n`);
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
        // A regular file only (a FIFO or device is refused at once, never waited on); errors name --out.
        writeOutputFileSync(out, bytes, { what: 'the usage file', option: '--out' });
        // Exported "now" on the tenant's clock: the file's time says so, as a real download's would.
        const period = exportPeriod(state, options.days);
        await utimes(out, period.end, period.end);
        const span = `${period.start.toISOString()}..${period.end.toISOString()}`;
        io.stdout.write(
          options.kind === 'clients-report'
            ? `Wrote ${options.out} (clients-report, ${span}, ${bytes.length} bytes). The report has no date column; state its period beside report: with exportedAt: ${period.end.toISOString()} and periodDays: ${options.days}\n`
            : `Wrote ${options.out} (request-report, ${span}, dated per message, ${bytes.length} bytes)\n`,
        );
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

function parseTenants(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isInteger(n) || n < MIN_FLEET_TENANTS || n > MAX_FLEET_TENANTS) {
    throw new InvalidArgumentError(`use a whole number from ${MIN_FLEET_TENANTS} to ${MAX_FLEET_TENANTS}.`);
  }
  return n;
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
