/**
 * The evidence side of the lockout guard (lockout-guard.ts calls it when a plan takes SMTP AUTH
 * away): which usage sources count, and what is refused.
 * - A source counts when this run read it completely and its period ends at most the step's
 *   maxAgeDays (default 7) before the run (the observation's volatile.runAt).
 * - An older source is a blocking `stale-evidence` risk with its age, its period and where that came
 *   from, and how to refresh it; only the step's acceptStaleEvidence naming it (with a reason)
 *   accepts it, and then it counts.
 * - Nothing that counts: a blocking `no-usage-evidence` risk naming what is missing (the playbook's
 *   acceptNoUsageEvidence or --accept-no-usage-evidence accepts it).
 * - A complete, fresh source that names nobody is evidence of "no SMTP AUTH senders in <period>":
 *   a `no-senders` note the plan and apply's prompt show.
 */
import type { ResolvedPlaybookView, Risk } from '../types.js';
import type { UsageObserved } from './usage/index.js';
import { describeEvidence, evidenceAgeDays, isStale, REFRESH, type UsageEvidence } from './usage/evidence.js';

const DEFAULT_MAX_AGE_DAYS = 7;

/** The step's freshness rule: maxAgeDays, and the sources its acceptStaleEvidence names (with the reason). */
function freshnessRule(playbook: ResolvedPlaybookView, stepId: string): { maxAgeDays: number; accepted: Map<string, string> } {
  const w = playbook.steps.find((s) => s.id === stepId)?.with as { maxAgeDays?: unknown; acceptStaleEvidence?: unknown } | undefined;
  const accepted = new Map<string, string>();
  if (Array.isArray(w?.acceptStaleEvidence)) {
    for (const a of w.acceptStaleEvidence as { source?: unknown; reason?: unknown }[]) {
      if (typeof a?.source === 'string' && typeof a.reason === 'string') accepted.set(a.source, a.reason);
    }
  }
  return { maxAgeDays: typeof w?.maxAgeDays === 'number' ? w.maxAgeDays : DEFAULT_MAX_AGE_DAYS, accepted };
}

/** When the run observed (the usage step records it; older observations only dated Graph sources). */
function runTimeOf(observed: UsageObserved): string | undefined {
  return observed.volatile?.runAt ?? observed.observedAt;
}

const nameOf = (e: UsageEvidence) => describeEvidence(e).replace(/^[a-z-]+/, (name) => `the ${name.replace(/-/g, ' ')}`);

/**
 * The evidence side of the guard: a stale-evidence risk per source older than maxAgeDays, and the
 * no-usage-evidence risk when nothing complete and fresh (or stale but accepted) remains.
 */
export function evidenceRisks(usage: readonly [string, UsageObserved][], playbook: ResolvedPlaybookView): Risk[] {
  const risks: Risk[] = [];
  const missing: string[] = [];
  let counted = false;
  for (const [stepId, observed] of usage) {
    const { maxAgeDays, accepted } = freshnessRule(playbook, stepId);
    const runAt = runTimeOf(observed);
    const evidence = observed.evidence ?? [];
    if (evidence.length === 0) missing.push(`step '${stepId}': no source`);
    for (const e of evidence) {
      if (!e.complete) {
        missing.push(`step '${stepId}': ${nameOf(e)}: ${e.missing ?? 'not read completely by this run'}`);
        continue;
      }
      const age = evidenceAgeDays(e, runAt);
      if (age === null) {
        missing.push(`step '${stepId}': ${nameOf(e)}: the period it covers is unknown`);
        continue;
      }
      if (!isStale(e, runAt, maxAgeDays)) {
        counted = true;
        continue;
      }
      const reason = e.key ? accepted.get(e.key) : undefined;
      const key = e.key ?? e.source;
      const period = `${e.windowStart?.slice(0, 10) ?? '?'}..${e.windowEnd?.slice(0, 10)}${e.periodFrom ? `, ${e.periodFrom}` : ''}`;
      risks.push({
        kind: 'stale-evidence',
        subject: key,
        message:
          `${nameOf(e)} is ${age > maxAgeDays ? age : `more than ${maxAgeDays}`} day(s) old: it covers ${period}, which ended more than maxAgeDays (${maxAgeDays}) before this run (step '${stepId}'). ` +
          (reason
            ? `Accepted by acceptStaleEvidence: ${reason}`
            : `Refresh it (${REFRESH[e.key ?? 'report']}), or accept it by name in the step: acceptStaleEvidence: [{ source: ${key}, reason: "..." }]`),
        accepted: reason !== undefined,
        blocking: true,
      });
      if (reason !== undefined) counted = true;
      else missing.push(`step '${stepId}': ${nameOf(e)}: ${age} day(s) old (maxAgeDays ${maxAgeDays})`);
    }
  }
  if (counted) return risks;
  if (usage.length === 0) missing.push('the playbook has no smtp-auth/usage step');
  const reason = playbook.acceptNoUsageEvidence?.reason;
  risks.push({
    kind: 'no-usage-evidence',
    subject: 'usage',
    message:
      `no usage evidence: this plan takes SMTP AUTH away, but no usage source this run read says who still submits with it (${missing.join('; ')}). ` +
      (reason
        ? `Accepted by the playbook's acceptNoUsageEvidence: ${reason}`
        : "Export the admin center's SMTP AUTH clients report and set `report:` on the usage step, or accept it with the playbook's acceptNoUsageEvidence: { reason: ... } or --accept-no-usage-evidence"),
    accepted: reason !== undefined,
    blocking: true,
  });
  return risks;
}

/** A complete, fresh source that names nobody: evidence of "no SMTP AUTH senders in <period>", said so. */
export function noSenderNotes(usage: readonly [string, UsageObserved][], playbook: ResolvedPlaybookView): Risk[] {
  const notes: Risk[] = [];
  for (const [stepId, observed] of usage) {
    const { maxAgeDays } = freshnessRule(playbook, stepId);
    for (const e of observed.evidence ?? []) {
      const age = evidenceAgeDays(e, runTimeOf(observed));
      if (!e.complete || e.senders.length > 0 || age === null || isStale(e, runTimeOf(observed), maxAgeDays)) continue;
      notes.push({
        kind: 'no-senders',
        subject: e.key ?? e.source,
        message: `no SMTP AUTH senders in ${e.windowStart?.slice(0, 10) ?? '?'}..${e.windowEnd?.slice(0, 10)} according to the ${e.source.replace(/-/g, ' ')} (${e.detail})${e.periodFrom ? `; period ${e.periodFrom}` : ''}`,
        blocking: false,
      });
    }
  }
  return notes;
}
