/**
 * Rollback, pure part: the inverse plan from a journal, newest first. Every write the journal records
 * (applied, failed, unknown, or only a "before" record) is a candidate: current values (re-read)
 * decide. A value already back at its before-value needs no write; a write whose outcome was not
 * "applied" is undone only where the current value differs from the before-value (a failed or lost
 * write may still have reached the tenant); a value someone else changed since is restored but flagged.
 *
 * The inverse is derived from the journal's values (target, id, property, before, after) through the
 * action's own write builder (ActionDefinition.invert): a call text or `undo` read from the file is
 * never run, so a forged journal can at most ask to restore a value through a write the action itself
 * would make. A record no builder derives is not written and is named (`underivable`).
 */
import type { Change, JournaledWrite, Risk, StepPlan } from '../actions/types.js';
import type { PsValue } from '../exchange/session.js';
import { show } from './apply.js';
import { stableStringify } from './fingerprint.js';
import type { BeforeWriteRecord, JournalRecord } from './journal.js';

export interface RollbackItem {
  change: Change;
  /** false: the journal does not say the original write was applied (failed, unknown, or no "after" record). */
  known: boolean;
  /** What the journal says about the original write ("missing": a "before" record without its "after"). */
  outcome: 'applied' | 'failed' | 'unknown' | 'missing';
}

export interface RollbackCandidates {
  items: RollbackItem[];
  /** Writes that cannot be undone, and why. */
  notes: string[];
  /** Writes whose inverse cannot be derived from the journal's values (forged or unknown): restore by hand. */
  underivable: string[];
}

/**
 * The inverse of one journaled write: a Change (built by the action's builder), 'no-undo' when the
 * action's writes cannot be undone (a submitted search, an escape-hatch call), or null when the
 * values are not a write any action of the run makes.
 */
export type InvertWrite = (write: JournaledWrite) => Change | 'no-undo' | null;

export function rollbackCandidates(records: readonly JournalRecord[], runDir: string, invert: InvertWrite): RollbackCandidates {
  const outcome = new Map<string, 'applied' | 'failed' | 'unknown'>();
  // A write the service refused with an error record did not happen (issue 9): nothing to restore.
  const refused = new Set<string>();
  for (const r of records) {
    if (r.type !== 'after') continue;
    outcome.set(r.changeId, r.outcome);
    if (r.outcome === 'failed' && r.serviceError) refused.add(r.changeId);
  }
  const befores = records.filter((r): r is BeforeWriteRecord => r.type === 'before').sort((a, b) => b.seq - a.seq);
  const items: RollbackItem[] = [];
  const notes: string[] = [];
  const underivable: string[] = [];
  const seen = new Set<string>();
  for (const before of befores) {
    if (seen.has(before.changeId)) continue;
    seen.add(before.changeId);
    if (refused.has(before.changeId)) continue;
    const result = outcome.get(before.changeId) ?? 'missing';
    const label = `${before.target} ${before.property}`;
    const inverse = invert({
      changeId: before.changeId,
      stepId: before.stepId,
      target: before.target,
      targetId: typeof before.targetId === 'string' ? before.targetId : undefined,
      property: before.property,
      before: before.before,
      after: before.after,
    });
    if (inverse === 'no-undo') {
      notes.push(`${label}: the action recorded no undo for this write; restore ${show(before.before)} by hand`);
      continue;
    }
    if (inverse === null) {
      underivable.push(`${label}: no write of this run's actions restores ${show(before.before)} from the journal's values; nothing was written for it, restore it by hand`);
      continue;
    }
    items.push({
      known: result === 'applied',
      outcome: result,
      change: {
        ...inverse,
        reason:
          result === 'applied'
            ? `undo the write of run ${runDir}: restore ${show(before.before)}`
            : result === 'missing'
              ? `run ${runDir} was stopped during this write (no "after" record): restore ${show(before.before)} in case it happened`
              : `run ${runDir} journaled this write as ${result}, but the value differs from ${show(before.before)}: restore it`,
      },
    });
  }
  return { items, notes: [...notes, ...underivable], underivable };
}

export function sameValue(a: PsValue | undefined, b: PsValue | undefined): boolean {
  return stableStringify(a) === stableStringify(b);
}

/**
 * Steps of the rollback plan, given current values (undefined: could not be re-read, so the undo is
 * written anyway; it restores a known value and is harmless if already there).
 */
export function rollbackSteps(candidates: RollbackCandidates, current: ReadonlyMap<string, PsValue | undefined>): StepPlan[] {
  const steps: StepPlan[] = [];
  const byStep = new Map<string, StepPlan>();
  for (const { change, known, outcome } of candidates.items) {
    let step = byStep.get(change.stepId);
    if (!step) {
      step = { stepId: change.stepId, uses: 'rollback', changes: [], inDesiredState: [], notes: [], risks: [] };
      byStep.set(change.stepId, step);
      steps.push(step);
    }
    const now = current.get(change.id);
    if (now !== undefined && sameValue(now, change.after)) {
      const why = known ? '' : outcome === 'missing' ? ' (the interrupted write did not happen, or was already undone)' : ` (the ${outcome} write did not happen, or was already undone)`;
      step.inDesiredState.push(`${change.target} ${change.property} is already ${show(change.after)}${why}`);
      continue;
    }
    if (now === undefined && !known) {
      step.risks.push(warning(change, `${change.target} ${change.property}: the current value cannot be read, and the journal says the write was ${outcome}; rollback writes ${show(change.after)} anyway (harmless if it is already there)`));
    }
    if (now !== undefined && !sameValue(now, change.before)) {
      step.risks.push(warning(change, `${change.target} ${change.property} is now ${show(now)}, not the ${show(change.before)} the run wrote: someone changed it since; rollback restores ${show(change.after)} anyway`));
    }
    step.changes.push(now !== undefined ? { ...change, before: now } : change);
  }
  if (steps.length === 0 && candidates.notes.length === 0) {
    steps.push({ stepId: 'rollback', uses: 'rollback', changes: [], inDesiredState: [], notes: ['the journal records no writes: nothing to roll back'], risks: [] });
  }
  if (candidates.notes.length) (steps[0] ?? pushEmpty(steps)).notes.push(...candidates.notes);
  return steps;
}

function pushEmpty(steps: StepPlan[]): StepPlan {
  const step: StepPlan = { stepId: 'rollback', uses: 'rollback', changes: [], inDesiredState: [], notes: [], risks: [] };
  steps.push(step);
  return step;
}

function warning(change: Change, message: string): Risk {
  return { kind: 'warning', subject: change.target, message, blocking: false };
}
