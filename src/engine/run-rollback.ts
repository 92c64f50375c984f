/**
 * `rollback <run-dir>` as an engine command: the inverse plan from the run's journal, shown and
 * confirmed like an apply, written journaled in a new run directory, then verified by re-reading.
 */
import { signInEnvFor } from './deps.js';
import { existsSync } from 'node:fs';
import { readInputTextSync } from '../files/regular-file.js';
import { join } from 'node:path';
import type { Finding } from '../actions/types.js';
import type { PsValue } from '../exchange/session.js';
import { InputError, RefusedError } from '../errors.js';
import { show } from './apply.js';
import { normalizeTarget, openRunSession } from './connect.js';
import { createEmitter } from './events.js';
import { fingerprintOf } from './fingerprint.js';
import { MAX_JOURNAL_BYTES, readJournal } from './journal.js';
import { acquireTenantLock } from './lock.js';
import { summarize } from './plan.js';
import type { PlaybookSource } from './playbook-source.js';
import { readBack } from './readback.js';
import { rollbackCandidates, rollbackSteps, sameValue } from './rollback.js';
import { onDevice } from './run-plan.js';
import { guardWrite, interruptedBeforeWriting, lockAfterSignIn, withReadSignal, writeCounter, writeJournaled, type WriteRunOptions } from './run-apply.js';
import { prepareRunsDir, RUN_FILES } from './rundir.js';
import { readSavedPlan } from './saved-plan.js';
import type { ApplyReport, PlanDocument } from './types.js';
import { verifyReportFrom } from './verify.js';

export interface RollbackCommandOptions extends WriteRunOptions {
  runDir: string;
  /** false: use the target recorded in the run's plan.json. */
  targetGiven: boolean;
}

export async function runRollback(options: RollbackCommandOptions): Promise<ApplyReport> {
  const now = options.now ?? (() => new Date());
  const emitter = createEmitter(options.sinks ?? [], now);
  const planPath = join(options.runDir, RUN_FILES.plan);
  if (!existsSync(planPath)) throw new InputError(`${options.runDir} is not a run directory (no ${RUN_FILES.plan})`, undefined, 'pass a directory under --runs-dir made by `exo-playbook apply`');
  const original = readSavedPlan(planPath, 'rollback <run-dir>');
  const records = readJournal(join(options.runDir, RUN_FILES.journal));
  const target = options.targetGiven ? normalizeTarget(options.target, options.cwd) : original.tenant.target;
  const source = await playbookForTarget(options, original, target);
  prepareRunsDir(options.runsDir);
  emitter.emit('run-start', `rollback ${options.runDir}`, { command: 'rollback', playbook: original.playbook.name, change: original.playbook.change });

  // As apply: a simulated tenant is locked by its state file before connecting, Exchange by the
  // tenant read after sign-in (run-apply.ts lockAfterSignIn), before any write.
  const lockOptions = { organization: original.tenant.organization, target, command: `rollback ${original.playbook.name}`, env: options.env, now };
  let lock = target.startsWith('sim:') ? acquireTenantLock(lockOptions) : undefined;
  const counting = writeCounter();
  const run = await openRunSession(options.deps, source, target, { env: options.env, readOnly: false, emitter, ...onDevice(options), wrap: counting.wrap }).catch((error) => {
    lock?.release();
    throw error;
  });
  lock ??= await lockAfterSignIn(run, lockOptions);
  try {
    // Which action wrote a step comes from the run's plan; the action's own builder derives the
    // inverse from the journal's values (and refuses values it would never write).
    const usesOf = new Map(original.steps.map((step) => [step.stepId, step.uses]));
    const candidates = rollbackCandidates(records, options.runDir, (write) => {
      const action = options.deps.actions[usesOf.get(write.stepId) ?? ''];
      if (!action) return null;
      return action.invert ? action.invert(write) : 'no-undo';
    });
    const signal = options.signal;
    const reading = withReadSignal(run.newContext(signal), signal).session;
    const readCurrent = async () => {
      const current = new Map<string, PsValue | undefined>();
      for (const { change } of candidates.items) {
        if (signal?.aborted) throw interruptedBeforeWriting();
        // A read that fails leaves the value unknown (undefined): rollbackSteps writes the undo anyway.
        const value = await readBack(reading, change.call).catch((error: unknown) => {
          if (signal?.aborted) throw interruptedBeforeWriting();
          emitter.emit('warning', `${change.target} ${change.property}: cannot read the current value (${error instanceof Error ? error.message : String(error)})`);
          return undefined;
        });
        current.set(change.id, value);
      }
      return current;
    };
    const current = await readCurrent();
    const steps = rollbackSteps(candidates, current);
    const partial = { steps, risks: [] };
    const plan: PlanDocument = {
      formatVersion: 1,
      kind: 'rollback',
      playbook: original.playbook,
      tenant: { organization: original.tenant.organization, target },
      createdAt: now().toISOString(),
      fingerprint: fingerprintOf([...current.entries()]),
      steps,
      risks: [],
      summary: summarize(partial),
    };
    options.showPlan?.(plan);
    await guardWrite(plan, { yes: options.yes, ...(options.confirm ? { confirm: options.confirm } : {}), approved: false }, emitter);
    if (signal?.aborted) throw interruptedBeforeWriting();
    const continueOnError = Object.fromEntries(steps.map((s) => [s.stepId, true]));
    return await writeJournaled(plan, null, run, counting.total, { ...options, continueOnError, kind: 'rollback', undoes: options.runDir }, emitter, async () => {
      const ctx = withReadSignal(run.newContext(signal), signal);
      // A write rollback could not derive is not restored: that run ends not compliant (exit 2).
      const findings: Finding[] = candidates.underivable.map((message) => ({ stepId: 'rollback', check: 'derivable', status: 'fail' as const, subject: message.split(':')[0]!, message }));
      for (const { change } of candidates.items) {
        const subject = `${change.target} ${change.property}`;
        let value: PsValue | undefined;
        try {
          value = await readBack(ctx.session, change.call);
        } catch (error) {
          // Rollback cannot tell whether the value is back: that is a failing check (non-zero exit).
          findings.push({ stepId: change.stepId, check: 'restored', status: 'fail', subject, message: `cannot be re-read (${error instanceof Error ? error.message : String(error)}); expected ${show(change.after)}: check it by hand` });
          continue;
        }
        findings.push(
          value === undefined
            ? { stepId: change.stepId, check: 'restored', status: 'warn', subject, message: `cannot be re-read; expected ${show(change.after)}` }
            : sameValue(value, change.after)
              ? { stepId: change.stepId, check: 'restored', status: 'pass', subject, message: `is ${show(value)} again` }
              : { stepId: change.stepId, check: 'restored', status: 'fail', subject, message: `is ${show(value)}, expected ${show(change.after)}` },
        );
      }
      return verifyReportFrom(findings, plan.playbook, plan.tenant, now());
    });
  } finally {
    await run.session.close();
    lock.release();
  }
}

/**
 * The playbook says how to sign in. A simulated tenant needs no sign-in, so a run against one can be
 * rolled back even when the playbook file has moved.
 */
async function playbookForTarget(options: RollbackCommandOptions, original: PlanDocument, target: string): Promise<PlaybookSource> {
  const file = original.playbook.file;
  try {
    const source = await options.deps.loadPlaybook(file, { env: options.env, signInEnv: signInEnvFor(target), runFiles: 'warn' });
    if (source.playbook.tenant.organization.toLowerCase() !== original.tenant.organization.toLowerCase()) {
      throw new RefusedError(`${file} now names ${source.playbook.tenant.organization}, but the run was against ${original.tenant.organization}`, 'other');
    }
    return source;
  } catch (error) {
    if (error instanceof RefusedError || !target.startsWith('sim:')) throw error;
    return {
      file,
      baseDir: options.cwd,
      hash: original.playbook.hash,
      playbook: {
        apiVersion: 'exo-playbook/v1',
        name: original.playbook.name,
        tenant: { organization: original.tenant.organization, auth: { method: 'azure-cli' } },
        vars: {},
        acceptBreakage: [],
        steps: [],
      } as unknown as PlaybookSource['playbook'],
    };
  }
}

/** Exposed for tests: the journal file of a run directory. */
export function journalText(runDir: string): string {
  return readInputTextSync(join(runDir, RUN_FILES.journal), { maxBytes: MAX_JOURNAL_BYTES, what: 'the journal' });
}
