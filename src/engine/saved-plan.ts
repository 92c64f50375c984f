/**
 * Reading a saved plan (`apply --plan plan.json`) and deciding whether it is still the truth: the
 * playbook must hash the same and the tenant must fingerprint the same as when the plan was made.
 */
import { readInputTextSync } from '../files/regular-file.js';
import { InputError, RefusedError } from '../errors.js';
import type { Change } from '../actions/types.js';
import { fingerprintObservations, stableStringify } from './fingerprint.js';
import type { PlanDocument, TenantRef } from './types.js';

/**
 * The largest saved plan read (docs/OPERATIONS.md): a plan of 100,000 mailbox changes is about
 * 100 MB of JSON. A bigger file is refused by its size on the opened descriptor, before a byte is read.
 */
export const MAX_SAVED_PLAN_BYTES = 256 * 1024 * 1024;

export function readSavedPlan(file: string, option = '--plan'): PlanDocument {
  const text = readInputTextSync(file, {
    maxBytes: MAX_SAVED_PLAN_BYTES,
    what: 'the saved plan',
    option,
    hint: 'save one with `exo-playbook plan <playbook> --out plan.json`',
  });
  let doc: Partial<PlanDocument>;
  try {
    doc = JSON.parse(text) as Partial<PlanDocument>;
  } catch (error) {
    throw new InputError(`${file} is not JSON: ${(error as Error).message}`, { file, line: 1, col: 1 }, 'pass the file written by `plan --out`');
  }
  if (doc.formatVersion !== 1 || (doc.kind !== 'plan' && doc.kind !== 'rollback') || !Array.isArray(doc.steps) || typeof doc.fingerprint !== 'string' || !doc.playbook || !doc.tenant) {
    throw new InputError(`${file} is not a plan saved by exo-playbook (formatVersion 1)`, { file, line: 1, col: 1 }, 'pass the file written by `plan --out`');
  }
  return doc as PlanDocument;
}

export function assertPlanStillValid(
  saved: PlanDocument,
  current: { playbookHash: string; tenant: TenantRef; observations: ReadonlyMap<string, unknown> },
  file: string,
): void {
  if (saved.kind !== 'plan') throw new InputError(`${file} is a ${saved.kind} plan`, undefined, 'use `exo-playbook rollback <run-dir>` for rollbacks');
  if (saved.playbook.hash !== current.playbookHash) {
    throw new RefusedError(`the playbook (or a file it references) changed since the plan ${file} was made`, 'stale-plan', [
      `plan: ${saved.playbook.hash}`,
      `now:  ${current.playbookHash}`,
      'make a new plan and review it',
    ]);
  }
  if (saved.tenant.organization.toLowerCase() !== current.tenant.organization.toLowerCase() || saved.tenant.target !== current.tenant.target) {
    throw new RefusedError(`the plan ${file} was made for ${saved.tenant.organization} (${saved.tenant.target}), not ${current.tenant.organization} (${current.tenant.target})`, 'stale-plan');
  }
  const fresh = fingerprintObservations(current.observations);
  if (fresh.fingerprint !== saved.fingerprint) {
    const changed = Object.entries(fresh.steps)
      .filter(([stepId, fp]) => saved.stepFingerprints?.[stepId] !== fp)
      .map(([stepId]) => `step "${stepId}" observes a different state now`);
    throw new RefusedError(`the tenant changed since the plan ${file} was made (${saved.createdAt})`, 'stale-plan', [
      ...(saved.stepFingerprints ? changed : []),
      'make a new plan and review it',
    ]);
  }
}

/**
 * A saved plan is a promise of what will be written, never a permission: apply re-derives the plan
 * from a fresh observation and writes only when the saved changes equal the fresh ones exactly (every
 * field, in order). Risks and acceptances in the file count for nothing: the fresh plan's apply.
 */
export function assertSameChanges(saved: PlanDocument, fresh: PlanDocument, file: string): void {
  const savedChanges = (Array.isArray(saved.steps) ? saved.steps : []).flatMap((s) => (Array.isArray(s?.changes) ? s.changes : []));
  const freshChanges = fresh.steps.flatMap((s) => s.changes);
  const byId = (changes: readonly Change[]) => new Map(changes.map((c) => [String(c?.id), c]));
  const savedById = byId(savedChanges);
  const freshById = byId(freshChanges);
  const differences: string[] = [];
  for (const change of freshChanges) {
    const other = savedById.get(change.id);
    if (!other) differences.push(`${change.id}: a fresh plan writes it (${describe(change)}), the saved plan does not`);
    else {
      const fields = changedFields(other, change);
      if (fields.length) differences.push(`${change.id}: ${fields.join(', ')} differ${fields.length === 1 ? 's' : ''} (fresh: ${describe(change)})`);
    }
  }
  for (const change of savedChanges) {
    if (!freshById.has(String(change?.id))) differences.push(`${String(change?.id)}: in the saved plan, but a fresh plan does not write it`);
  }
  if (differences.length === 0 && stableStringify(savedChanges.map((c) => c.id)) !== stableStringify(freshChanges.map((c) => c.id))) {
    differences.push('the changes are in another order than a fresh plan writes them');
  }
  if (differences.length === 0) return;
  throw new RefusedError(`the saved plan ${file} and a fresh plan of the same playbook and tenant differ; nothing was written`, 'stale-plan', [
    ...differences.slice(0, 10),
    ...(differences.length > 10 ? [`… and ${differences.length - 10} more`] : []),
    'a saved plan is applied only as `plan --out` wrote it: make a new plan and review it',
  ]);
}

function changedFields(saved: Change, fresh: Change): string[] {
  const keys = [...new Set([...Object.keys(saved ?? {}), ...Object.keys(fresh)])].sort();
  return keys.filter((key) => stableStringify((saved as unknown as Record<string, unknown>)?.[key]) !== stableStringify((fresh as unknown as Record<string, unknown>)[key]));
}

function describe(change: Change): string {
  return `${change.call.cmdlet} ${change.target} ${change.property} -> ${stableStringify(change.after)}`;
}
