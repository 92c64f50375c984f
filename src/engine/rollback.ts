/**
 * Rollback, pure part: the inverse plan from a journal. Every write whose "after" record says applied,
 * and every write with only a "before" record (outcome unknown), is undone newest first. The inverse
 * is derived from the journal's values (target, id, property, before, after) through the action's own
 * write builder (ActionDefinition.invert): a call text or `undo` read from the file is never run, so a
 * forged journal can at most ask to restore a value through a write the action itself would make.
 * Current values (re-read) refine it: a value already back at its before-value needs no write, and a
 * value someone else changed since is restored but flagged.
 */
import type { Change, JournaledWrite, Risk, StepPlan } from '../actions/types.js';
import type { PsValue } from '../exchange/session.js';
import { show } from './apply.js';
import { stableStringify } from './fingerprint.js';
import type { BeforeWriteRecord, JournalRecord } from './journal.js';

export interface RollbackItem {
  change: Change;
  /** false: the journal has no "after" record for the original write. */
  known: boolean;
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
  const outcome = new Map<string, 'applied' | 'failed'>();
  for (const r of records) if (r.type === 'after') outcome.set(r.changeId, r.outcome);
  const befores = records.filter((r): r is BeforeWriteRecord => r.type === 'before').sort((a, b) => b.seq - a.seq);
  const items: RollbackItem[] = [];
  const notes: string[] = [];
  const underivable: string[] = [];
  const seen = new Set<string>();
  for (const before of befores) {
    if (seen.has(before.changeId)) continue;
    seen.add(before.changeId);
    const result = outcome.get(before.changeId);
    if (result === 'failed') continue;
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
      change: {
        ...inverse,
        reason:
          result === 'applied'
            ? `undo the write of run ${runDir}: restore ${show(before.before)}`
            : `run ${runDir} was stopped during this write (no "after" record): restore ${show(before.before)} in case it happened`,
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
  for (const { change, known } of candidates.items) {
    let step = byStep.get(change.stepId);
    if (!step) {
      step = { stepId: change.stepId, uses: 'rollback', changes: [], inDesiredState: [], notes: [], risks: [] };
      byStep.set(change.stepId, step);
      steps.push(step);
    }
    const now = current.get(change.id);
    if (now !== undefined && sameValue(now, change.after)) {
      step.inDesiredState.push(`${change.target} ${change.property} is already ${show(change.after)}${known ? '' : ' (the interrupted write did not happen, or was already undone)'}`);
      continue;
    }
    if (now !== undefined && !sameValue(now, change.before)) {
      step.risks.push(warning(change, `${change.target} ${change.property} is now ${show(now)}, not the ${show(change.before)} the run wrote: someone changed it since; rollback restores ${show(change.after)} anyway`));
    }
    step.changes.push(now !== undefined ? { ...change, before: now } : change);
  }
  if (steps.length === 0 && candidates.notes.length === 0) {
    steps.push({ stepId: 'rollback', uses: 'rollback', changes: [], inDesiredState: [], notes: ['the journal records no applied writes: nothing to roll back'], risks: [] });
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
