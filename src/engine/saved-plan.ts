/**
 * Reading a saved plan (`apply --plan plan.json`) and deciding whether it is still the truth: the
 * playbook must hash the same and the tenant must fingerprint the same as when the plan was made.
 */
import { readFileSync } from 'node:fs';
import { InputError, RefusedError } from '../errors.js';
import { fingerprintObservations } from './fingerprint.js';
import type { PlanDocument, TenantRef } from './types.js';

export function readSavedPlan(file: string): PlanDocument {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read the plan ${file}: ${(error as Error).message}`, undefined, 'save one with `exo-playbook plan <playbook> --out plan.json`');
  }
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
