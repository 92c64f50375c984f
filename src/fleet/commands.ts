/**
 * What each fleet command does for one tenant: the single-tenant engine command, its report kept
 * whole, and the row's status, exit code and one-line message. The exit codes are the single-tenant
 * commands' own (README "Exit codes").
 */
import { createHash } from 'node:crypto';
import { makeFolders, readInputTextSync, readRegularFileSync, writeOutputFileSync } from '../files/regular-file.js';
import { join, relative, resolve } from 'node:path';
import { runApply, type WriteRunOptions } from '../engine/run-apply.js';
import { runPlan, runVerify } from '../engine/run-plan.js';
import { runRollback } from '../engine/run-rollback.js';
import { MAX_SAVED_PLAN_BYTES } from '../engine/saved-plan.js';
import type { ApplyReport, PlanDocument } from '../engine/types.js';
import { ExitCode, InputError, RefusedError } from '../errors.js';
import { renderJson } from '../report/json.js';
import type { Inventory } from './inventory.js';
import type { FleetTenantResult } from './result.js';
import type { TenantOutcome, TenantRun } from './runner.js';

export interface PlanTenantOptions {
  playbookFile: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  acceptBreakage: readonly string[];
  acceptNoUsageEvidence: boolean;
  /** --out <folder>: the tenant's plan is saved as <folder>/<tenant id>.plan.json. */
  outDir?: string;
}

export async function planTenant(run: TenantRun, options: PlanTenantOptions): Promise<TenantOutcome> {
  const plan = await runPlan({
    deps: run.deps,
    playbookFile: options.playbookFile,
    target: run.target,
    env: options.env,
    cwd: options.cwd,
    sinks: run.sinks,
    acceptBreakage: options.acceptBreakage,
    acceptNoUsageEvidence: options.acceptNoUsageEvidence,
  });
  let planFile: string | undefined;
  if (options.outDir) {
    planFile = join(options.outDir, planFileName(run.tenant.id));
    writeOutputFileSync(planFile, renderJson(plan), { what: 'the saved plan', option: '--out', permissions: 0o600 });
  }
  return { ...planOutcome(plan), plan, ...(planFile ? { planFile } : {}) };
}

export function planOutcome(plan: PlanDocument): Pick<TenantOutcome, 'status' | 'exitCode' | 'message'> {
  const s = plan.summary;
  return {
    status: s.changes > 0 ? 'changes' : 'ok',
    exitCode: s.changes > 0 ? ExitCode.changesOrDrift : ExitCode.ok,
    message: `${s.changes} change(s), ${s.inDesiredState} already as desired${s.blockingRisks ? `, ${s.blockingRisks} blocking risk(s)` : ''}`,
  };
}

export async function verifyTenant(run: TenantRun, options: Pick<PlanTenantOptions, 'playbookFile' | 'env' | 'cwd'>): Promise<TenantOutcome> {
  const report = await runVerify({ deps: run.deps, playbookFile: options.playbookFile, target: run.target, env: options.env, cwd: options.cwd, sinks: run.sinks });
  const s = report.summary;
  return {
    status: report.compliant ? 'ok' : 'drift',
    exitCode: report.compliant ? ExitCode.ok : ExitCode.changesOrDrift,
    message: `${report.compliant ? 'compliant' : 'drift'}: ${s.pass} pass, ${s.fail} fail, ${s.warn} warn`,
    verify: report,
  };
}

export type FleetWriteOptions = Omit<WriteRunOptions, 'deps' | 'target' | 'runsDir' | 'sinks' | 'confirm' | 'showPlan' | 'stepRunner' | 'onPhase'>;

/** Applies exactly the tenant's saved plan (re-derived and refused when stale, as `apply --plan`). */
export async function applyTenant(run: TenantRun, options: FleetWriteOptions & { playbookFile: string; planFile: string; acceptBreakage: readonly string[]; acceptNoUsageEvidence: boolean }): Promise<TenantOutcome> {
  const report = await runApply({ ...options, deps: run.deps, target: run.target, runsDir: run.runsDir, sinks: run.sinks });
  return applyOutcome(report);
}

/** Rolls back the tenant's run folder (as `rollback <run-dir>`). */
export async function rollbackTenant(run: TenantRun, options: FleetWriteOptions & { runDir: string; targetGiven: boolean }): Promise<TenantOutcome> {
  const report = await runRollback({ ...options, deps: run.deps, target: run.target, runsDir: run.runsDir, sinks: run.sinks });
  return applyOutcome(report);
}

/** An apply-like report as a row: the single-tenant apply's exit codes (apply.ts applyExitCode), without throwing. */
export function applyOutcome(report: ApplyReport): TenantOutcome {
  const { applied, failed, skipped } = report.summary;
  const verify = report.verify ? (report.verify.compliant ? '; compliant' : `; drift: ${report.verify.summary.fail} failing check(s)`) : '';
  const counts = `${applied} applied, ${failed} failed, ${skipped} skipped${verify}`;
  const base = { apply: report, runDir: report.runDir };
  if (report.interrupted) return { ...base, status: 'refused', exitCode: ExitCode.refused, message: `interrupted: ${counts}`, error: { kind: 'refused', guard: 'interrupted', message: 'interrupted' } };
  if (failed > 0) return { ...base, status: 'partial', exitCode: ExitCode.applyPartiallyFailed, message: counts };
  if (report.verify && !report.verify.compliant) return { ...base, status: 'drift', exitCode: ExitCode.changesOrDrift, message: counts };
  return { ...base, status: 'ok', exitCode: ExitCode.ok, message: counts };
}

// ---------------------------------------------------------------------------------------------
// Approval once: a folder of saved plans, one per tenant, and an index.

export const PLAN_INDEX = 'index.json';

export function planFileName(tenantId: string): string {
  return `${tenantId}.plan.json`;
}

export interface PlanIndex {
  formatVersion: 1;
  kind: 'fleet-plans';
  playbook: { file: string; sha256: string };
  inventory: { file: string; sha256: string };
  createdAt: string;
  /** Every tenant planned; those whose plan failed have no planFile (apply refuses them). */
  tenants: { id: string; planFile?: string; sha256?: string; changes?: number; blockingRisks?: number; exitCode: number; message: string }[];
}

export function sha256File(file: string): string {
  const read = readRegularFileSync(file, { maxBytes: MAX_SAVED_PLAN_BYTES });
  if (!read.ok) throw new InputError(`cannot read ${file}: ${read.detail}`);
  return createHash('sha256').update(read.bytes).digest('hex');
}

/** --out <folder>: made if missing; refused before any read when it cannot be. */
export function preparePlansFolder(folder: string, given: string): void {
  // One level at a time (never Node's recursive mkdir, which loops under /proc); errors name --out.
  makeFolders(folder, { what: 'the plans folder', option: '--out', hint: 'point --out at a folder this account can write to' }, 0o700, given);
}

export function writePlanIndex(folder: string, playbook: PlanIndex['playbook'], inventory: Inventory, results: readonly FleetTenantResult[], now: Date): string {
  const index: PlanIndex = {
    formatVersion: 1,
    kind: 'fleet-plans',
    playbook,
    inventory: { file: inventory.file, sha256: inventory.hash },
    createdAt: now.toISOString(),
    tenants: results.map((t) => ({
      id: t.id,
      ...(t.planFile ? { planFile: relative(folder, t.planFile), sha256: sha256File(t.planFile) } : {}),
      ...(t.plan ? { changes: t.plan.summary.changes, blockingRisks: t.plan.summary.blockingRisks } : {}),
      exitCode: t.exitCode,
      message: t.message,
    })),
  };
  const file = join(folder, PLAN_INDEX);
  writeOutputFileSync(file, renderJson(index), { what: 'the plan index', option: '--out', permissions: 0o600 });
  return file;
}

/**
 * The saved plans of `fleet plan --out`, checked against what is run now: the same playbook file and
 * inventory (else refused, exit 4: the plans were approved for something else). Each plan is later
 * re-derived and refused per tenant when stale (`apply --plan` rules).
 */
export function readPlanIndex(folder: string, given: string, playbook: { sha256: string }, inventory: Inventory): { index: PlanIndex; planFor(id: string): { file?: string; refusal?: string } } {
  const file = join(folder, PLAN_INDEX);
  let index: PlanIndex;
  try {
    index = JSON.parse(readInputTextSync(file, { maxBytes: MAX_SAVED_PLAN_BYTES, what: 'the plan index', option: '--plan' })) as PlanIndex;
  } catch (error) {
    throw new InputError(`--plan ${given}: no readable ${PLAN_INDEX} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, undefined, 'pass the folder `exo-playbook fleet plan … --out <folder>` wrote');
  }
  if (index?.kind !== 'fleet-plans' || index.formatVersion !== 1 || !Array.isArray(index.tenants)) {
    throw new InputError(`--plan ${given}: ${PLAN_INDEX} is not a fleet plan index`, { file, line: 1, col: 1 }, 'pass the folder `exo-playbook fleet plan … --out <folder>` wrote');
  }
  if (index.playbook?.sha256 !== playbook.sha256) throw new RefusedError(`--plan ${given}: the plans were made from another version of the playbook; nothing was written`, 'stale-plan', ['plan the fleet again (`fleet plan … --out`) and review it']);
  if (index.inventory?.sha256 !== inventory.hash) throw new RefusedError(`--plan ${given}: the plans were made from another version of the inventory; nothing was written`, 'stale-plan', ['plan the fleet again (`fleet plan … --out`) and review it']);
  const byId = new Map(index.tenants.map((t) => [t.id, t]));
  return {
    index,
    planFor(id) {
      const entry = byId.get(id);
      if (!entry) return { refusal: `no saved plan for this tenant in ${given} (it was not in the planned selection)` };
      if (!entry.planFile) return { refusal: `no saved plan for this tenant in ${given}: its plan failed (${entry.message})` };
      const planFile = resolve(folder, entry.planFile);
      if (relative(folder, planFile).startsWith('..')) return { refusal: `${PLAN_INDEX} names a plan outside ${given}` };
      let actual: string;
      try {
        actual = sha256File(planFile);
      } catch {
        return { refusal: `the saved plan ${entry.planFile} is missing` };
      }
      if (actual !== entry.sha256) return { refusal: `the saved plan ${entry.planFile} was changed after the fleet was planned` };
      return { file: planFile };
    },
  };
}
