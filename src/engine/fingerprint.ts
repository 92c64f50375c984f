/**
 * Fingerprints of observed state. A saved plan records them so that `apply --plan` can prove the
 * tenant still looks the way it did when the plan was reviewed. Key order never matters.
 */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal data always hashes equal. */
export function stableStringify(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function fingerprintOf(value: unknown): string {
  return sha256(stableStringify(value));
}

/**
 * An observation's top-level `volatile` part is shown but never fingerprinted: what changes on every
 * read without the tenant changing (a probe's timestamped server line, its time and transcript) must
 * not make a reviewed plan stale.
 */
function withoutVolatile(observed: unknown): unknown {
  if (observed === null || typeof observed !== 'object' || Array.isArray(observed) || !('volatile' in observed)) return observed;
  const { volatile: _volatile, ...stable } = observed as Record<string, unknown>;
  return stable;
}

/** One fingerprint per step, and one over all of them (in step order). */
export function fingerprintObservations(perStep: ReadonlyMap<string, unknown>): { fingerprint: string; steps: Record<string, string> } {
  const steps: Record<string, string> = {};
  for (const [stepId, observed] of perStep) steps[stepId] = fingerprintOf(withoutVolatile(observed));
  return { fingerprint: fingerprintOf([...perStep.keys()].map((id) => [id, steps[id]])), steps };
}
