/**
 * Where a step's value was written, for errors a user must fix in the playbook or an allowlist file.
 */
import type { SourceLocation } from '../errors.js';
import type { ResolvedPlaybookView } from './types.js';

export function locateInStep(
  playbook: ResolvedPlaybookView,
  stepId: string,
  path: readonly (string | number)[],
): SourceLocation | undefined {
  const index = playbook.steps.findIndex((step) => step.id === stepId);
  if (index < 0) return undefined;
  return playbook.locate?.(['steps', index, ...path]) ?? playbook.locate?.(['steps', index]);
}

/** An address from an allowlist: the file line it came from when it came from a file, else the playbook. */
export function locateAddress(
  playbook: ResolvedPlaybookView,
  stepId: string,
  path: readonly (string | number)[],
  address: string,
): SourceLocation | undefined {
  return playbook.origins?.get(address.toLowerCase())?.[0] ?? locateInStep(playbook, stepId, path);
}

export function formatLocation(location: SourceLocation | undefined): string {
  return location ? `${location.file}:${location.line}:${location.col}` : '';
}
