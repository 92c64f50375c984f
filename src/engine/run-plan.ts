/**
 * `plan` and `verify` as engine commands: load, connect read-only, observe, then the pure phase.
 * Neither writes anything anywhere (no run directory, no lock: they cannot conflict with a write).
 */
import { signInEnvFor } from './deps.js';
import { tenantRef } from './tenant-ref.js';
import { normalizeTarget, openRunSession } from './connect.js';
import { createEmitter } from './events.js';
import { observeSteps } from './observe.js';
import { buildPlan } from './plan.js';
import { playbookRef, type PlaybookSource } from './playbook-source.js';
import type { RunOptions } from './run-options.js';
import { InputError } from '../errors.js';
import type { PlanDocument, TenantRef, VerifyReport } from './types.js';
import { buildVerifyReport } from './verify.js';

export interface PlanCommandOptions extends RunOptions {
  playbookFile: string;
  acceptBreakage?: readonly string[];
  /** --accept-no-usage-evidence */
  acceptNoUsageEvidence?: boolean;
}

/**
 * The pure plan phase as plan and apply both run it: the playbook, what was observed, and the
 * command's acceptances (apply re-derives a saved plan the same way, so the two cannot drift apart).
 */
export function planFromObservations(
  source: PlaybookSource,
  tenant: TenantRef,
  observations: ReadonlyMap<string, unknown>,
  options: Pick<PlanCommandOptions, 'deps' | 'acceptBreakage' | 'acceptNoUsageEvidence'>,
  createdAt: Date,
): PlanDocument {
  return buildPlan({
    playbook: source.playbook,
    playbookRef: playbookRef(source),
    positions: source,
    tenant,
    observations,
    actions: options.deps.actions,
    checks: options.deps.planChecks,
    acceptBreakage: options.acceptBreakage ?? [],
    acceptNoUsageEvidence: options.acceptNoUsageEvidence ?? false,
    createdAt,
  });
}

export async function runPlan(options: PlanCommandOptions): Promise<PlanDocument> {
  const now = options.now ?? (() => new Date());
  const emitter = createEmitter(options.sinks ?? [], now);
  const target = normalizeTarget(options.target, options.cwd);
  const source = await options.deps.loadPlaybook(options.playbookFile, { env: options.env, signInEnv: options.auth ? 'warn' : signInEnvFor(target) });
  emitter.emit('run-start', `plan ${source.playbook.name}`, { command: 'plan', playbook: source.playbook.name, change: source.playbook.change });
  const run = await openRunSession(options.deps, source, target, { env: options.env, readOnly: true, emitter, ...onDevice(options) });
  try {
    const observations = await observeSteps(source.playbook, options.deps.actions, run.newContext(), emitter);
    const plan = planFromObservations(source, tenantRef(source, target), observations, options, now());
    emitter.emit('plan', `${plan.summary.changes} change(s), ${plan.summary.inDesiredState} already as desired, ${plan.summary.blockingRisks} blocking risk(s)`, { summary: plan.summary });
    emitter.emit('run-end', 'plan done', { changes: plan.summary.changes });
    return plan;
  } finally {
    await run.session.close();
  }
}

export interface VerifyCommandOptions extends RunOptions {
  playbookFile: string;
  /**
   * --only: verify just these steps (by id, or by action, e.g. smtp-auth/usage), the others are not
   * read; the exit code then follows their findings alone (the usage step's: new senders).
   */
  only?: readonly string[];
}

export async function runVerify(options: VerifyCommandOptions): Promise<VerifyReport> {
  const now = options.now ?? (() => new Date());
  const emitter = createEmitter(options.sinks ?? [], now);
  const target = normalizeTarget(options.target, options.cwd);
  const loaded = await options.deps.loadPlaybook(options.playbookFile, { env: options.env, signInEnv: options.auth ? 'warn' : signInEnvFor(target) });
  const source = options.only?.length ? onlySteps(loaded, options.only) : loaded;
  emitter.emit('run-start', `verify ${source.playbook.name}`, { command: 'verify', playbook: source.playbook.name, change: source.playbook.change });
  const run = await openRunSession(options.deps, source, target, { env: options.env, readOnly: true, emitter, ...onDevice(options) });
  try {
    const ctx = run.newContext();
    const observations = await observeSteps(source.playbook, options.deps.actions, ctx, emitter);
    const built = buildVerifyReport({
      playbook: source.playbook,
      playbookRef: playbookRef(source),
      tenant: tenantRef(source, target),
      observations,
      actions: options.deps.actions,
      checkedAt: now(),
    });
    const report = options.only?.length ? { ...built, only: source.playbook.steps.map((s) => s.id) } : built;
    // Steps that keep a memory between runs (the usage step's history: for the drift check) record it now.
    for (const step of source.playbook.steps) {
      const action = options.deps.actions[step.uses];
      if (action?.record) await action.record(step.with, observations.get(step.id), ctx, source.playbook.name);
    }
    const drift = driftOf(report);
    emitter.emit('verify', `${report.summary.pass} pass, ${report.summary.fail} fail, ${report.summary.warn} warn`, { summary: report.summary, compliant: report.compliant, ...drift.fields });
    emitter.emit('run-end', report.compliant ? 'compliant' : `drift found: ${drift.text}`, { compliant: report.compliant, ...drift.fields });
    return report;
  } finally {
    await run.session.close();
  }
}

/** The playbook with only the steps --only names (by id or by `uses`); a name that matches no step is an error. */
function onlySteps(source: PlaybookSource, only: readonly string[]): PlaybookSource {
  const steps = source.playbook.steps;
  for (const name of only) {
    if (!steps.some((s) => s.id === name || s.uses === name)) {
      throw new InputError(`--only ${name}: the playbook has no step with this id or action`, undefined, `its steps: ${steps.map((s) => `${s.id} (${s.uses})`).join(', ')}`);
    }
  }
  return { ...source, playbook: { ...source.playbook, steps: steps.filter((s) => only.includes(s.id) || only.includes(s.uses)) } };
}

/** Who drifted, for log lines: every failing check and its subject (the log is what a scheduled run leaves). */
export function driftOf(report: VerifyReport): { text: string; fields: { drifted?: { step: string; check: string; subject: string }[] } } {
  const failing = report.findings.filter((f) => f.status === 'fail');
  if (!failing.length) return { text: '', fields: {} };
  const SHOWN = 10;
  const named = failing.slice(0, SHOWN).map((f) => `${f.check} ${f.subject}`);
  const more = failing.length > SHOWN ? ` and ${failing.length - SHOWN} more (field drifted lists all)` : '';
  return { text: `${named.join(', ')}${more}`, fields: { drifted: failing.map((f) => ({ step: f.stepId, check: f.check, subject: f.subject })) } };
}

export function onDevice(options: RunOptions): { onDeviceCode?: (message: string) => void; auth?: RunOptions['auth'] } {
  return { ...(options.onDeviceCode ? { onDeviceCode: options.onDeviceCode } : {}), ...(options.auth ? { auth: options.auth } : {}) };
}
