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

export async function runVerify(options: RunOptions & { playbookFile: string }): Promise<VerifyReport> {
  const now = options.now ?? (() => new Date());
  const emitter = createEmitter(options.sinks ?? [], now);
  const target = normalizeTarget(options.target, options.cwd);
  const source = await options.deps.loadPlaybook(options.playbookFile, { env: options.env, signInEnv: options.auth ? 'warn' : signInEnvFor(target) });
  emitter.emit('run-start', `verify ${source.playbook.name}`, { command: 'verify', playbook: source.playbook.name, change: source.playbook.change });
  const run = await openRunSession(options.deps, source, target, { env: options.env, readOnly: true, emitter, ...onDevice(options) });
  try {
    const ctx = run.newContext();
    const observations = await observeSteps(source.playbook, options.deps.actions, ctx, emitter);
    const report = buildVerifyReport({
      playbook: source.playbook,
      playbookRef: playbookRef(source),
      tenant: tenantRef(source, target),
      observations,
      actions: options.deps.actions,
      checkedAt: now(),
    });
    // Steps that keep a memory between runs (the usage step's history: for the drift check) record it now.
    for (const step of source.playbook.steps) {
      const action = options.deps.actions[step.uses];
      if (action?.record) await action.record(step.with, observations.get(step.id), ctx, source.playbook.name);
    }
    emitter.emit('verify', `${report.summary.pass} pass, ${report.summary.fail} fail, ${report.summary.warn} warn`, { summary: report.summary, compliant: report.compliant });
    emitter.emit('run-end', report.compliant ? 'compliant' : 'drift found', { compliant: report.compliant });
    return report;
  } finally {
    await run.session.close();
  }
}

export function onDevice(options: RunOptions): { onDeviceCode?: (message: string) => void; auth?: RunOptions['auth'] } {
  return { ...(options.onDeviceCode ? { onDeviceCode: options.onDeviceCode } : {}), ...(options.auth ? { auth: options.auth } : {}) };
}
