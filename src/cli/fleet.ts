/**
 * `exo-playbook fleet validate|plan|apply|verify|rollback|merge`: one playbook over the tenants of an
 * inventory (src/fleet). Each tenant is today's single-tenant run; this file turns flags into the
 * fleet runner's options, asks for approval once, and prints the one fleet report.
 * The single-tenant commands are unchanged.
 */
import { createHash } from 'node:crypto';
import { readInputTextSync, readRegularFileSync, writeOutputFileSync } from '../files/regular-file.js';
import { totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Option, type Command } from 'commander';
import { normalizeTarget } from '../engine/connect.js';
import { runStamp } from '../engine/rundir.js';
import { ExitCode, InputError, RefusedError } from '../errors.js';
import { applyTenant, planTenant, preparePlansFolder, type FleetWriteOptions, readPlanIndex, rollbackTenant, verifyTenant, writePlanIndex } from '../fleet/commands.js';
import { inShard, loadInventory, parseShard, selectTenants, type Inventory, type InventoryTenant, type Shard } from '../fleet/inventory.js';
import { blockingOf, FLEET_FORMATS, renderFleet, renderFleetJson } from '../fleet/report.js';
import { exitSeverity, finishResult, MAX_FLEET_RESULT_BYTES, mergeResults, parseFleetResult, type FleetCommand, type FleetResult, type FleetTenantResult } from '../fleet/result.js';
import { runFleet, type TenantOutcome, type TenantRun } from '../fleet/runner.js';
import { PlaybookInvalid } from '../playbook/problems.js';
import { MAX_SOURCE_BYTES } from '../playbook/source.js';
import type { CliIO } from './io.js';
import { mailSpec, type MailFlags } from './notify-flags.js';
import { notifyAfter, playbookNameOf, type NotifyAfterOptions, type NotifyCommand, type RunResult, type WebhookFormat } from '../engine/notify.js';
import type { Wrap } from './program.js';
import { engineDeps, interruptOnSigint, renderSummary, sinksFor, withOptions, type CommonFlags } from './engine-support.js';

/** PowerShell hosts cost 200-270 MB each (measured): half the machine's memory at 300 MB a tenant, at most 4. */
export function defaultParallel(memory = totalmem()): number {
  return Math.max(1, Math.min(4, Math.floor(memory / 2 / (300 * 1024 * 1024))));
}

/** The fleet's own options (the single-tenant ones come from options.ts). */
const FLEET_OPTIONS = {
  target: () => new Option('--target <target>', "exchange or sim:<state.json> for every tenant; default each tenant's target: in the inventory, else exchange"),
  inventory: () => new Option('-i, --inventory <inventory.yaml>', 'the fleet inventory (tenants, their sign-in and vars)').makeOptionMandatory(),
  tenants: () =>
    new Option('--tenants <selectors>', 'comma-separated tenant ids, names, tags or globs (e.g. "pilot,*-eu.onmicrosoft.com"); default every tenant').argParser((v, prev: string[] = []) => [
      ...prev,
      ...v.split(',').map((s) => s.trim()).filter(Boolean),
    ]),
  parallel: () =>
    new Option('--parallel <n>', `tenants at once (each real tenant holds a PowerShell host of 200-270 MB per session); default ${defaultParallel()} on this machine: half its memory at 300 MB a tenant, at most 4`).argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error('--parallel must be a whole number from 1 to 64');
      return n;
    }),
  failFast: () => new Option('--fail-fast', 'start no new tenant once one failed (exit 1, 3 or 4); default: every tenant runs'),
  shard: () => new Option('--shard <K/N>', 'run only shard K of N: the tenants whose id hashes to K (stable across reruns and inventory order)'),
  result: () => new Option('--result <file>', 'also write the fleet result (the JSON `fleet merge` reads) to this file'),
  outFolder: () => new Option('--out <folder>', 'save one plan per tenant and an index.json in this folder, for `fleet apply --plan <folder>`'),
  planFolder: () => new Option('--plan <folder>', 'apply exactly the plans `fleet plan --out <folder>` saved (each refused if stale)'),
  requireEnv: () => new Option('--require-env', 'treat unset sign-in variables as errors (on the machine that runs against the tenants)'),
};

interface FleetFlags extends CommonFlags, MailFlags {
  notifyWebhook?: string;
  notifyFormat?: WebhookFormat;
  inventory: string;
  tenants?: string[];
  parallel?: number;
  failFast?: boolean;
  shard?: string;
  result?: string;
  out?: string;
  plan?: string;
  runsDir: string;
  concurrency: number;
  requireEnv?: boolean;
}

function addFleetOptions(command: Command, names: (keyof typeof FLEET_OPTIONS)[]): Command {
  for (const name of names) command.addOption(FLEET_OPTIONS[name]());
  return command;
}

export function registerFleet(program: Command, io: CliIO, wrap: Wrap): void {
  const fleet = program
    .command('fleet')
    .description('run one playbook over many tenants of an inventory (validate, plan, apply, verify, rollback; merge shards)')
    .addHelpText(
      'after',
      `
Each tenant runs in isolation, exactly as the single-tenant command would: its own sessions, lock,
run folder (<runs-dir>/<tenant id>/<run>), journal, lockout guard and usage evidence. One tenant's
failure never stops the others (unless --fail-fast). The exit code is the worst of the tenants'
(1 error > 4 refused > 3 partly failed > 2 changes/drift > 0); the report says which tenant gave which.

Examples:
  exo-playbook fleet validate playbooks/smtp-auth-fleet.yaml --inventory fleet/inventory.yaml
  exo-playbook fleet plan  playbooks/smtp-auth-fleet.yaml -i fleet/inventory.yaml --out plans/
  exo-playbook fleet apply playbooks/smtp-auth-fleet.yaml -i fleet/inventory.yaml --plan plans/
  exo-playbook fleet verify playbooks/smtp-auth-fleet.yaml -i fleet/inventory.yaml --tenants pilot --format junit
  exo-playbook fleet plan  playbooks/smtp-auth-fleet.yaml -i fleet/inventory.yaml --shard 2/4 --result shard-2.json
  exo-playbook fleet merge shard-*.json --format markdown`,
    );

  const common = ['logFile', 'maxChars', 'notifyWebhook', 'notifyFormat', 'notifyMail', 'notifySmtp', 'notifySmtpPassword', 'notifyMailFrom'] as const;
  const validate = fleet.command('validate').argument('[playbook]', 'the playbook YAML file (omit to check only the inventory)').description('check the inventory, and the playbook as each tenant would load it, without connecting');
  addFleetOptions(withOptions(validate, ['format'], ['text', 'markdown', 'json']), ['inventory', 'tenants', 'requireEnv']).action(
    wrap(async (file: string | undefined, flags: FleetFlags, cmd: Command) => output(await runCommand('validate', file, flags, cmd, io), flags, io)),
  );
  const plan = fleet.command('plan').argument('<playbook>', 'the playbook YAML file').description('read-only: plan every tenant; --out saves the plans for approval once');
  addFleetOptions(withOptions(plan, [...common, 'format', 'acceptBreakage', 'acceptNoUsageEvidence'], FLEET_FORMATS), ['inventory', 'tenants', 'target', 'parallel', 'failFast', 'shard', 'result', 'outFolder']).action(
    wrap(async (file: string, flags: FleetFlags, cmd: Command) => notifiedCommand('plan', file, flags, cmd, io)),
  );
  const apply = fleet.command('apply').argument('<playbook>', 'the playbook YAML file').description('write each tenant\'s changes after one confirmation (or --yes, or the saved plans of --plan), journaled per tenant, then verify');
  addFleetOptions(withOptions(apply, [...common, 'format', 'yes', 'acceptBreakage', 'acceptNoUsageEvidence', 'runsDir', 'concurrency'], FLEET_FORMATS), ['inventory', 'tenants', 'target', 'parallel', 'failFast', 'shard', 'result', 'planFolder']).action(
    wrap(async (file: string, flags: FleetFlags, cmd: Command) => notifiedCommand('apply', file, flags, cmd, io)),
  );
  const verify = fleet.command('verify').argument('<playbook>', 'the playbook YAML file').description('read-only: check every tenant matches the playbook');
  addFleetOptions(withOptions(verify, [...common, 'format'], FLEET_FORMATS), ['inventory', 'tenants', 'target', 'parallel', 'failFast', 'shard', 'result']).action(
    wrap(async (file: string, flags: FleetFlags, cmd: Command) => notifiedCommand('verify', file, flags, cmd, io)),
  );
  const rollback = fleet.command('rollback').argument('<result>', 'the fleet result a `fleet apply --result <file>` wrote').description("restore the before-values each tenant's run journaled (one confirmation, or --yes)");
  addFleetOptions(withOptions(rollback, [...common, 'format', 'yes', 'runsDir', 'concurrency'], FLEET_FORMATS), ['inventory', 'tenants', 'target', 'parallel', 'failFast', 'result']).action(
    wrap(async (file: string, flags: FleetFlags, cmd: Command) => notifiedCommand('rollback', file, flags, cmd, io)),
  );
  const merge = fleet.command('merge').argument('<results...>', 'the fleet results of the shards (--result files)').description('one report from the shards\' results, as one unsharded run would give it');
  addFleetOptions(withOptions(merge, ['format', 'maxChars', 'notifyWebhook', 'notifyFormat', 'notifyMail', 'notifySmtp', 'notifySmtpPassword', 'notifyMailFrom'], FLEET_FORMATS), ['result']).action(
    wrap(async (files: string[], flags: FleetFlags) => {
      const inputs = files.map((file) => {
        // A regular file, bounded (a FIFO or /dev/zero is refused at once, never waited on).
        const text = readInputTextSync(resolve(io.cwd, file), { maxBytes: MAX_FLEET_RESULT_BYTES, what: 'the fleet result', option: 'fleet merge' });
        return { file, result: parseFleetResult(text, file) };
      });
      const merged = mergeResults(inputs);
      // The sharded run's one message: on the same rule as the command the shards ran.
      if (merged.command === 'validate') {
        if (flags.notifyWebhook || flags.notifyMail) throw new InputError('fleet merge: --notify-webhook and --notify-mail go with the results of fleet plan, apply, verify or rollback, not validate');
        return output(merged, flags, io);
      }
      return notifyAfter(notifyOptions(merged.command, merged.playbook.file, flags, io), async () => fleetNotice(merged, merged.playbook.file, flags, io));
    }),
  );
}

/**
 * --notify-webhook / --notify-mail for a fleet run: one message for the whole fleet, sent on drift or
 * failure as a single run's is (a plan with changes is not news), naming each tenant that did not end
 * ok (the first ten). A failed post is a warning; it never changes the exit code.
 */
async function notifiedCommand(command: NotifyCommand & FleetCommand, file: string, flags: FleetFlags, cmd: Command, io: CliIO): Promise<number> {
  return notifyAfter(notifyOptions(command, file, flags, io), async () => fleetNotice(await runCommand(command, file, flags, cmd, io), file, flags, io));
}

function notifyOptions(command: NotifyCommand, file: string, flags: FleetFlags, io: CliIO): NotifyAfterOptions {
  return {
    spec: flags.notifyWebhook,
    command,
    playbookFile: file,
    env: io.env,
    warn: (line: string) => io.stderr.write(line),
    ...(flags.notifyFormat ? { format: flags.notifyFormat } : {}),
    ...mailSpec(flags),
    cwd: io.cwd,
  };
}

/** Prints the report (and --result) and says what the notification needs: the fleet, its tenants not ok. */
function fleetNotice(result: FleetResult, file: string, flags: FleetFlags, io: CliIO): RunResult {
  const notOk = result.tenants.filter((t) => t.exitCode !== ExitCode.ok).sort((a, b) => exitSeverity(b.exitCode) - exitSeverity(a.exitCode) || a.index - b.index);
  // The change ticket the playbook names (the same in every tenant's load of it).
  const change = result.tenants.map((t) => t.plan?.playbook.change ?? t.apply?.plan.playbook.change ?? t.verify?.playbook.change).find(Boolean);
  return {
    exitCode: output(result, flags, io),
    outcome: {
      playbook: { name: result.playbook.name ?? playbookNameOf(file), file: result.playbook.file, ...(change ? { change } : {}) },
      fleet: { tenants: result.tenants.length, notOk: notOk.map((t) => ({ id: t.id, status: t.status, exitCode: t.exitCode, message: t.message })) },
    },
  };
}

function output(result: FleetResult, flags: Pick<FleetFlags, 'result' | 'format' | 'maxChars'>, io: CliIO): number {
  if (flags.result) {
    writeOutputFileSync(resolve(io.cwd, flags.result), renderFleetJson(result), { what: 'the fleet result', option: '--result', permissions: 0o600, hint: 'point --result at a file in a folder this account can write to' });
  }
  io.stdout.write(renderFleet(result, flags.format, { color: io.color, ...(flags.maxChars ? { maxChars: flags.maxChars } : {}) }));
  return result.exitCode;
}

async function runCommand(command: FleetCommand, file: string | undefined, flags: FleetFlags, cmd: Command, io: CliIO): Promise<FleetResult> {
  const startedAt = new Date();
  const inventory = await loadInventory(flags.inventory, io.cwd);
  const shard: Shard | undefined = flags.shard ? parseShard(flags.shard) : undefined;
  const selected = selectTenants(inventory, flags.tenants);
  const tenants = inShard(selected, shard);
  const targetOverride = flags.target ? normalizeTarget(flags.target, io.cwd) : undefined;
  // rollback's argument is the apply's result; its playbook is the one that result names.
  const applied = command === 'rollback' ? readAppliedResult(resolve(io.cwd, file!), file!) : undefined;
  const playbookFile = applied ? resolve(io.cwd, applied.playbook.file) : file ? resolve(io.cwd, file) : undefined;
  const playbook = playbookFile ? playbookIdentity(playbookFile, applied ? applied.playbook.file : file!) : { file: '', sha256: '' };
  if (applied && (applied.playbook.sha256 !== playbook.sha256 || applied.inventory.sha256 !== inventory.hash)) {
    throw new RefusedError(`fleet rollback: ${file} was applied with another version of the playbook or the inventory; nothing was written`, 'other', ['roll each tenant back with `exo-playbook rollback <run folder>`']);
  }
  const base = {
    command,
    playbook,
    inventory: { file: inventory.displayFile, sha256: inventory.hash },
    selection: { ...(flags.tenants?.length ? { tenants: flags.tenants } : {}), ...(shard ? { shard } : {}), ids: selected.map((t) => t.id) },
  };
  const sinks = sinksFor(io, flags, { progress: false });
  const interrupt = interruptOnSigint(io);
  try {
    const deps = await engineDeps();
    const parallel = flags.parallel ?? defaultParallel();
    const progress = progressLines(io, command);
    const fleetRun = (list: readonly InventoryTenant[], run: (r: TenantRun) => Promise<TenantOutcome>, label = command) =>
      runFleet({
        inventory,
        tenants: list,
        deps,
        ...(targetOverride ? { targetOverride } : {}),
        runsDir: resolve(io.cwd, flags.runsDir ?? 'runs'),
        parallel,
        failFast: flags.failFast === true,
        signal: interrupt.signal,
        sinks: sinks.sinks,
        onEnd: (result, done, of) => progress(label, result, done, of),
        run,
      });
    const env = io.env;
    const cwd = io.cwd;
    const acceptances = { acceptBreakage: flags.acceptBreakage ?? [], acceptNoUsageEvidence: flags.acceptNoUsageEvidence === true };
    const write = {
      env,
      cwd,
      yes: false,
      concurrency: flags.concurrency ?? 1,
      signal: interrupt.signal,
      renderSummary,
      onDeviceCode: (message: string) => io.stderr.write(`${message}\n`),
    };
    let results: FleetTenantResult[];
    if (command === 'validate') {
      results = await fleetRun(tenants, async (run) => {
        if (!playbookFile) return { status: 'ok', exitCode: ExitCode.ok, message: 'in the inventory (no playbook given)' };
        await run.deps.loadPlaybook(playbookFile, { env, signInEnv: flags.requireEnv ? 'require' : 'warn', runFiles: flags.requireEnv ? 'require' : 'warn' });
        return { status: 'ok', exitCode: ExitCode.ok, message: 'valid' };
      });
    } else if (command === 'plan') {
      const outDir = flags.out ? resolve(io.cwd, flags.out) : undefined;
      if (outDir) preparePlansFolder(outDir, flags.out!);
      results = await fleetRun(tenants, (run) => planTenant(run, { playbookFile: playbookFile!, env, cwd, ...acceptances, ...(outDir ? { outDir } : {}) }));
      if (outDir) {
        const index = writePlanIndex(outDir, playbook, inventory, results, new Date());
        io.stderr.write(`saved ${results.filter((r) => r.planFile).length} plan(s) and ${index}; apply exactly these with: exo-playbook fleet apply ${file} --inventory ${flags.inventory} --plan ${flags.out}\n`);
      }
    } else if (command === 'verify') {
      results = await fleetRun(tenants, (run) => verifyTenant(run, { playbookFile: playbookFile!, env, cwd }));
    } else if (command === 'apply') {
      results = await fleetApply({ flags, io, inventory, tenants, playbook, playbookFile: playbookFile!, fleetRun, write, acceptances, realness: realnessOf(tenants, targetOverride), onWriting: () => interrupt.onPhase('writing') });
    } else {
      const runDirs = new Map(applied!.tenants.filter((t) => t.runDir).map((t) => [t.id, t.runDir!]));
      const withRun = tenants.filter((t) => runDirs.has(t.id));
      if (withRun.length) await confirmOnce(io, flags, `Roll back ${withRun.length} tenant(s) to the before-values their runs journaled (${realnessOf(withRun, targetOverride)})?`);
      interrupt.onPhase('writing');
      results = await fleetRun(tenants, async (run) => {
        const runDir = runDirs.get(run.tenant.id);
        if (!runDir) return { status: 'ok', exitCode: ExitCode.ok, message: 'nothing to roll back (no run folder in the apply result)' };
        return rollbackTenant(run, { ...write, yes: true, runDir, targetGiven: targetOverride !== undefined });
      });
    }
    await sinks.settle();
    const name = results.map((r) => r.plan?.playbook.name ?? r.apply?.plan.playbook.name ?? r.verify?.playbook.name).find(Boolean);
    const result = finishResult({
      formatVersion: 1,
      kind: 'fleet',
      ...base,
      playbook: { ...(name ? { name } : {}), ...playbook },
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      tenants: results,
    });
    return result;
  } finally {
    interrupt.dispose();
    await sinks.settle();
    sinks.close();
  }
}

function playbookIdentity(absolute: string, given: string): { file: string; sha256: string } {
  const read = readRegularFileSync(absolute, { maxBytes: MAX_SOURCE_BYTES });
  if (!read.ok) throw new PlaybookInvalid([{ location: { file: given, line: 1, col: 1 }, message: read.reason === 'missing' ? 'no such playbook file' : `cannot read the playbook (${read.detail})`, path: '' }]);
  return { file: given, sha256: createHash('sha256').update(read.bytes).digest('hex') };
}

function readAppliedResult(absolute: string, given: string): FleetResult {
  const text = readInputTextSync(absolute, { maxBytes: MAX_FLEET_RESULT_BYTES, what: 'the fleet result', option: 'fleet rollback', hint: 'pass the file `fleet apply … --result <file>` wrote' });
  const result = parseFleetResult(text, given);
  if (result.command !== 'apply') throw new InputError(`fleet rollback: ${given} is the result of fleet ${result.command}, not of fleet apply`, { file: given, line: 1, col: 1 });
  return result;
}

/** One line per tenant as it finishes, on stderr (stdout is the report). */
function progressLines(io: CliIO, command: string) {
  return (label: string, result: FleetTenantResult, done: number, of: number) => {
    io.stderr.write(`[${label === command ? '' : `${label} `}${done}/${of}] ${result.id}: ${result.status}, exit ${result.exitCode}: ${result.message}\n`);
  };
}

function realnessOf(tenants: readonly InventoryTenant[], override: string | undefined): string {
  const sims = tenants.filter((t) => (override ?? t.target ?? 'exchange').startsWith('sim:')).length;
  return sims === tenants.length ? 'SIMULATED' : sims === 0 ? 'REAL tenants' : `${tenants.length - sims} REAL, ${sims} SIMULATED`;
}

/** The one question of a fleet write (or --yes); without a terminal and without --yes: refused, nothing written. */
async function confirmOnce(io: CliIO, flags: Pick<FleetFlags, 'yes'>, question: string): Promise<void> {
  if (flags.yes) return;
  if (!io.interactive) {
    throw new RefusedError('no terminal to confirm the fleet run, and --yes was not given; nothing was written', 'confirmation', [
      'review it, then run again with --yes (or save the plans with `fleet plan … --out <folder>` and `fleet apply … --plan <folder>`)',
    ]);
  }
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  const cancelled = new AbortController();
  rl.on('SIGINT', () => cancelled.abort());
  try {
    const answer = await rl.question(`${question} [y/N] `, { signal: cancelled.signal }).catch(() => 'n');
    if (!/^y(es)?$/i.test(answer.trim())) throw new RefusedError('not confirmed; nothing was written', 'confirmation');
  } finally {
    rl.close();
  }
}

interface FleetApplyContext {
  flags: FleetFlags;
  io: CliIO;
  inventory: Inventory;
  tenants: InventoryTenant[];
  playbook: { file: string; sha256: string };
  playbookFile: string;
  fleetRun: (list: readonly InventoryTenant[], run: (r: TenantRun) => Promise<TenantOutcome>, label?: FleetCommand) => Promise<FleetTenantResult[]>;
  write: FleetWriteOptions;
  acceptances: { acceptBreakage: string[]; acceptNoUsageEvidence: boolean };
  /** REAL, SIMULATED or both, for the one summary. */
  realness: string;
  onWriting: () => void;
}

/**
 * Approval once. With --plan <folder>: exactly the saved plans (a saved plan was approved when it was
 * reviewed, as `apply --plan`). Without: every tenant is planned first (read-only, its plan saved in
 * <runs-dir>/fleet-<time>-plans/), one summary is shown and one question asked (or --yes), then each
 * tenant applies its own saved plan, re-derived and refused when the tenant changed in between.
 */
async function fleetApply(c: FleetApplyContext): Promise<FleetTenantResult[]> {
  const { flags, io } = c;
  const applyWith = (planFile: string) => (run: TenantRun) => applyTenant(run, { ...c.write, playbookFile: c.playbookFile, planFile, ...c.acceptances });
  if (flags.plan) {
    const folder = resolve(io.cwd, flags.plan);
    const saved = readPlanIndex(folder, flags.plan, c.playbook, c.inventory);
    c.onWriting();
    return c.fleetRun(c.tenants, (run) => {
      const plan = saved.planFor(run.tenant.id);
      if (!plan.file) throw new RefusedError(`${plan.refusal}; nothing was written`, 'stale-plan');
      return applyWith(plan.file)(run);
    });
  }
  const folder = join(resolve(io.cwd, flags.runsDir), `fleet-${runStamp(new Date())}-plans`);
  preparePlansFolder(folder, folder);
  const planned = await c.fleetRun(c.tenants, (run) => planTenant(run, { playbookFile: c.playbookFile, env: io.env, cwd: io.cwd, ...c.acceptances, outDir: folder }), 'plan');
  writePlanIndex(folder, c.playbook, c.inventory, planned, new Date());
  const ready = planned.filter((t) => t.planFile);
  io.stderr.write(`${approvalSummary(planned, c.realness, folder)}\n`);
  const toWrite = ready.filter((t) => (t.plan?.summary.changes ?? 0) > 0 && !t.plan?.summary.blockingRisks);
  if (toWrite.length) await confirmOnce(io, flags, `Apply the changes of ${toWrite.length} tenant(s) (${ready.length - toWrite.length} more are verified or refused as listed)?`);
  c.onWriting();
  const byId = new Map(ready.map((t) => [t.id, t.planFile!]));
  const applied = await c.fleetRun(
    c.tenants.filter((t) => byId.has(t.id)),
    (run) => applyWith(byId.get(run.tenant.id)!)(run),
  );
  const appliedById = new Map(applied.map((t) => [t.id, t]));
  // A tenant whose plan failed keeps its plan row (why it was not applied).
  return planned.map((p) => appliedById.get(p.id) ?? p);
}

/** The one summary before the one question: tenants, changes, blocking risks per tenant, REAL/SIMULATED. */
export function approvalSummary(planned: readonly FleetTenantResult[], realness: string, folder: string): string {
  const changes = planned.reduce((sum, t) => sum + (t.plan?.summary.changes ?? 0), 0);
  const withChanges = planned.filter((t) => (t.plan?.summary.changes ?? 0) > 0);
  const blocked = planned.filter((t) => t.plan?.summary.blockingRisks);
  const failed = planned.filter((t) => !t.plan);
  const lines = [
    `Fleet apply: ${planned.length} tenant(s), ${realness}: ${changes} change(s) in ${withChanges.length} tenant(s); plans saved in ${folder}`,
    ...withChanges.filter((t) => !t.plan?.summary.blockingRisks).map((t) => `  ${t.id}: ${t.plan!.summary.changes} change(s)`),
  ];
  if (blocked.length) {
    lines.push(`Refused by the lockout guard (blocking risks), nothing will be written to them:`);
    for (const t of blocked) lines.push(`  ${t.id}: ${blockingOf(t).slice(0, 3).join('; ')}${blockingOf(t).length > 3 ? `; and ${blockingOf(t).length - 3} more` : ''}`);
  }
  if (failed.length) {
    lines.push(`Not planned, nothing will be written to them:`);
    for (const t of failed) lines.push(`  ${t.id}: ${t.message}`);
  }
  return lines.join('\n');
}
