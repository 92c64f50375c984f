/**
 * What the usage step says about its senders, pure: one dossier per sender (with SMTP AUTH after the
 * whole plan when there is one), the source notes, the one-line summary verify prints, and the drift
 * check against the previous run's senders (history:).
 */
import type { Finding, PlanInput, Risk, StepPlan } from '../../types.js';
import { isSmtpAuthState } from '../smtp-auth-state.js';
import { buildDossiers, shortSource, type SenderDossier, type SwitchesAfter } from './dossier.js';
import { evidenceAgeDays, foldByMailbox, mergeEvidence, SOURCE_LABELS, type SourceReading } from './evidence.js';
import type { UsageObserved, UsageWith } from './index.js';
import type { ResolvedMailbox } from '../resolve-mailboxes.js';

export function mailboxLookup(resolved: readonly ResolvedMailbox[]): (address: string) => string | null {
  const byEntry = new Map(resolved.map((r) => [r.entry.toLowerCase(), r.mailbox]));
  return (address) => byEntry.get(address.toLowerCase()) ?? null;
}

function newSenders(observed: UsageObserved): string[] {
  if (!observed.previous) return [];
  const before = new Set(observed.previous.senders);
  return [...new Set(observed.rows.map((r) => r.sender))].filter((s) => !before.has(s)).sort();
}

export function driftNotes(observed: UsageObserved): string[] {
  if (observed.previous === undefined) return [];
  if (observed.previous === null) return ['no previous run recorded (history:): this run\'s verify records the senders it sees'];
  const fresh = newSenders(observed);
  return [fresh.length ? `${fresh.length} sender(s) not seen at the previous run (${observed.previous.at}): ${fresh.join(', ')}` : `no new sender since the previous run (${observed.previous.at})`];
}

/**
 * Senders an earlier run recorded (history:, written by any playbook's verify that names the file)
 * that none of this run's sources names: a device that stopped, or one only a source this run lacks
 * saw. A warning in the plan, so nobody switches it off unnamed.
 */
export function missingSenderRisks(observed: UsageObserved): Risk[] {
  if (!observed.previous) return [];
  const now = ownSenders(observed);
  const { playbook, at } = observed.previous;
  return observed.previous.senders
    .filter((s) => !now.has(s.toLowerCase()))
    .map((sender) => ({
      kind: 'warning' as const,
      subject: sender,
      message: `seen by an earlier run (playbook ${playbook}, ${at}) but named by none of this run's usage sources: it may have stopped, or only a source this run does not read saw it. Check it before SMTP AUTH goes off`,
      blocking: false,
    }));
}

/** Every address of every sender this run's own sources named (not an earlier run's saved readings), lower-case. */
export function ownSenders(observed: UsageObserved): Set<string> {
  const named = new Set((observed.readings ?? []).filter((r) => !r.savedBy).flatMap((r) => r.senders.map((s) => s.sender.toLowerCase())));
  if (!observed.readings) for (const r of observed.rows) named.add(r.sender.toLowerCase());
  const all = new Set(named);
  for (const s of observed.senders) {
    const addresses = [s.entry, ...(s.mailbox ? [s.mailbox] : []), ...(s.addresses ?? [])].map((a) => a.toLowerCase());
    if (addresses.some((a) => named.has(a))) addresses.forEach((a) => all.add(a));
  }
  return all;
}

export function driftFindings(stepId: string, observed: UsageObserved): Finding[] {
  if (!observed.previous) return [];
  const at = observed.previous.at;
  return newSenders(observed).map((sender) => ({
    stepId,
    check: 'usage-new-sender',
    status: 'fail' as const,
    subject: sender,
    message: `submits with SMTP AUTH but was not seen at the previous run of this playbook (${at}): find its owner`,
  }));
}

export function sourceNote(e: SourceReading, runAt?: string): string {
  const blind = e.blindSpots.length ? ` Cannot see: ${e.blindSpots.join('; ')}.` : '';
  const from = e.periodFrom && !e.window.includes('from the') ? `; period ${e.periodFrom}` : '';
  const age = evidenceAgeDays({ windowEnd: e.windowEnd ?? null }, runAt);
  const ageText = age === null ? '' : age === 0 ? '; ends at this run' : `; ended ${age} day(s) before this run`;
  // A complete source naming nobody is evidence too: of no SMTP AUTH sender in its period.
  const who = e.senders.length === 0 && e.complete ? 'no SMTP AUTH senders in' : `${e.senders.length} sender(s), covers`;
  return `${SOURCE_LABELS[e.source]} (${e.label}): ${who} ${e.window}${from}${ageText}${e.complete ? '' : ' (INCOMPLETE)'}.${blind}`;
}

export function evidenceSummary(e: SourceReading): Record<string, unknown> {
  return {
    source: e.source,
    label: e.label,
    window: e.window,
    windowStart: e.windowStart ?? null,
    windowEnd: e.windowEnd ?? null,
    periodFrom: e.periodFrom ?? null,
    complete: e.complete,
    blindSpots: e.blindSpots,
    senders: e.senders.length,
    warnings: e.warnings,
  };
}

export function dossierLine(d: SenderDossier): string {
  const parts = [
    d.protocols.filter((p) => p !== 'Unknown').join('+') || 'protocol unknown',
    d.messages !== null ? `${d.messages} message(s)` : 'message count unknown',
    d.firstSeen || d.lastSeen ? `seen ${d.firstSeen?.slice(0, 10) ?? 'unknown'}..${d.lastSeen?.slice(0, 10) ?? 'unknown'}` : 'SMTP dates unknown',
    d.lastEmailAppActivity ? `last activity in any email app ${d.lastEmailAppActivity.slice(0, 10)}` : '',
    d.clientIps.length ? `IPs ${d.clientIps.join(' ')}` : '',
    d.tlsVersions.length ? d.tlsVersions.join('/') : '',
    `seen by ${d.sources.map(shortSource).join(', ')}`,
    d.mailbox === null ? 'no mailbox' : `mailbox ${d.mailbox}`,
    `SMTP AUTH ${d.smtpAuthNow}${d.smtpAuthAfter ? ` -> ${d.smtpAuthAfter}` : ''}`,
    d.allowlisted ? 'allowlisted' : 'not allowlisted',
  ];
  return parts.filter(Boolean).join(', ');
}

/** Allowlisted = listed by an smtp-auth/allowlist step, or by a verify step's own `mailboxes`. */
function allowlistedOf(input: PlanInput<UsageWith, UsageObserved>): Set<string> {
  const listed = new Set<string>();
  for (const step of input.playbook.steps) {
    if (step.uses !== 'smtp-auth/allowlist' && step.uses !== 'smtp-auth/verify') continue;
    const observed = input.observations.get(step.id);
    if (!isSmtpAuthState(observed)) continue;
    for (const entry of observed.listed ?? []) {
      listed.add(entry.entry.toLowerCase());
      if (entry.mailbox) listed.add(entry.mailbox.toLowerCase());
    }
  }
  return listed;
}

export function dossiersOf(input: PlanInput<UsageWith, UsageObserved>, after: SwitchesAfter | null): SenderDossier[] {
  const evidence = input.observed.readings ?? [];
  const merged = mergeEvidence(
    evidence.length
      ? evidence
      : [{ source: 'admin-center-report', label: input.observed.file ?? 'report', window: '', blindSpots: [], complete: true, warnings: [], senders: input.observed.rows.map((r) => ({ sender: r.sender, protocols: [r.protocol], messages: r.messages, firstSeen: null, lastSeen: r.lastSeen, clientIps: [], tlsVersions: [] })) }],
  ).filter((m) => m.sender.includes('@'));
  const folded = foldByMailbox(merged, mailboxLookup(input.observed.senders));
  return buildDossiers(folded, input.observed.senders, input.observed.organizationDisabled, allowlistedOf(input), after);
}

/** What the plan leaves: the organization's switch and each changed mailbox's switch. */
export function switchesAfter(plans: readonly StepPlan[]): SwitchesAfter {
  let organization: boolean | undefined;
  const mailboxes = new Map<string, boolean | null>();
  for (const change of plans.flatMap((p) => p.changes)) {
    if (change.property !== 'SmtpClientAuthenticationDisabled') continue;
    if (change.call.cmdlet === 'Set-TransportConfig') organization = change.after === true;
    else if (change.call.cmdlet === 'Set-CASMailbox') mailboxes.set(change.target.toLowerCase(), change.after as boolean | null);
  }
  return { organization, mailboxes };
}

