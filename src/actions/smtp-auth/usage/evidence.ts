/**
 * Usage evidence: what one source saw, per sender, and what it cannot see. Every source
 * (admin-center CSV, request-report CSV, Entra sign-in logs, Graph email app usage) yields one
 * UsageEvidence; mergeEvidence folds them into one record per sender. The lockout guard and verify
 * read the merged senders (a sender seen by any source counts).
 */
import { mergeUsageRows, type AuthProtocol, type UsageRow } from './usage-table.js';

export type UsageSourceKind = 'admin-center-report' | 'request-report' | 'entra-sign-ins' | 'email-app-usage';

export const SOURCE_LABELS: Record<UsageSourceKind, string> = {
  'admin-center-report': 'admin center SMTP AUTH clients report',
  'request-report': 'historical search request report (SmtpCSReport)',
  'entra-sign-ins': 'Entra sign-in logs (Graph)',
  'email-app-usage': 'email app usage report (Graph)',
};

export interface SenderEvidence {
  /** Lower-case address as the source names it. */
  sender: string;
  protocols: AuthProtocol[];
  /** null when the source has no counts (sign-in logs, email app usage). */
  messages: number | null;
  firstSeen: string | null;
  lastSeen: string | null;
  clientIps: string[];
  tlsVersions: string[];
  /** Entra sign-ins only: failed Basic sign-ins (devices already broken). */
  failures?: number;
}

export interface UsageEvidence {
  source: UsageSourceKind;
  /** The file read, or the Graph request. */
  label: string;
  /** The period the source covers, in words (some sources carry no dates at all). */
  window: string;
  /** What this source cannot see. */
  blindSpots: string[];
  /** False when the source stopped early (page cap, cycle) or hid names: absence proves nothing. */
  complete: boolean;
  senders: SenderEvidence[];
  warnings: string[];
}

export interface MergedSender extends SenderEvidence {
  sources: UsageSourceKind[];
  /** Every address the sources used for it (a device may sign in with the UPN and send as the primary). */
  addresses: string[];
}

const SOURCE_ORDER: UsageSourceKind[] = ['admin-center-report', 'request-report', 'entra-sign-ins', 'email-app-usage'];
const PROTOCOL_ORDER: AuthProtocol[] = ['Basic', 'OAuth', 'Unknown'];

export function mergeEvidence(evidence: readonly UsageEvidence[]): MergedSender[] {
  const bySender = new Map<string, MergedSender>();
  for (const source of evidence) {
    for (const seen of source.senders) {
      const key = seen.sender.toLowerCase();
      const merged = bySender.get(key);
      if (!merged) {
        bySender.set(key, { ...seen, sender: key, protocols: [...seen.protocols], clientIps: [...seen.clientIps], tlsVersions: [...seen.tlsVersions], sources: [source.source], addresses: [key] });
        continue;
      }
      merged.protocols = union(merged.protocols, seen.protocols);
      // Two sources count the same submissions (the clients report and the request report of one
      // period): the larger count is the better estimate, a sum would double them.
      merged.messages = merged.messages === null && seen.messages === null ? null : Math.max(merged.messages ?? 0, seen.messages ?? 0);
      merged.firstSeen = earliest(merged.firstSeen, seen.firstSeen);
      merged.lastSeen = latest(merged.lastSeen, seen.lastSeen);
      merged.clientIps = union(merged.clientIps, seen.clientIps);
      merged.tlsVersions = union(merged.tlsVersions, seen.tlsVersions);
      if (seen.failures !== undefined) merged.failures = (merged.failures ?? 0) + seen.failures;
      if (!merged.sources.includes(source.source)) merged.sources.push(source.source);
    }
  }
  return tidy([...bySender.values()]);
}

/**
 * One record per mailbox: addresses that resolve to the same mailbox (primary, proxy, UPN) are one
 * sender, named by the mailbox's primary address. Addresses no mailbox has stay as they are.
 */
export function foldByMailbox(senders: readonly MergedSender[], mailboxOf: (address: string) => string | null): MergedSender[] {
  const byKey = new Map<string, MergedSender>();
  for (const s of senders) {
    const key = (mailboxOf(s.sender) ?? s.sender).toLowerCase();
    const seen = byKey.get(key);
    if (!seen) {
      byKey.set(key, { ...s, sender: key, addresses: [...s.addresses] });
      continue;
    }
    seen.protocols = union(seen.protocols, s.protocols);
    seen.messages = seen.messages === null && s.messages === null ? null : Math.max(seen.messages ?? 0, s.messages ?? 0);
    seen.firstSeen = earliest(seen.firstSeen, s.firstSeen);
    seen.lastSeen = latest(seen.lastSeen, s.lastSeen);
    seen.clientIps = union(seen.clientIps, s.clientIps);
    seen.tlsVersions = union(seen.tlsVersions, s.tlsVersions);
    if (s.failures !== undefined) seen.failures = (seen.failures ?? 0) + s.failures;
    seen.sources = union(seen.sources, s.sources);
    seen.addresses = union(seen.addresses, s.addresses);
  }
  return tidy([...byKey.values()]);
}

function tidy(senders: MergedSender[]): MergedSender[] {
  for (const merged of senders) {
    // A known protocol makes "Unknown" (a source without auth type) redundant.
    if (merged.protocols.some((p) => p !== 'Unknown')) merged.protocols = merged.protocols.filter((p) => p !== 'Unknown');
    merged.protocols.sort((a, b) => PROTOCOL_ORDER.indexOf(a) - PROTOCOL_ORDER.indexOf(b));
    merged.clientIps.sort();
    merged.tlsVersions.sort();
    merged.addresses.sort();
    merged.sources.sort((a, b) => SOURCE_ORDER.indexOf(a) - SOURCE_ORDER.indexOf(b));
  }
  return senders.sort((a, b) => (b.messages ?? 0) - (a.messages ?? 0) || a.sender.localeCompare(b.sender));
}

/** The rows the lockout guard reads: one per sender and protocol, every source included. */
export function usageRowsOf(senders: readonly MergedSender[]): UsageRow[] {
  return mergeUsageRows(
    senders.flatMap((s) =>
      (s.protocols.length ? s.protocols : (['Unknown'] as AuthProtocol[])).map((protocol, i) => ({
        sender: s.sender,
        protocol,
        // Counts are per sender, not per protocol, in the merged view: give them to the first protocol.
        messages: i === 0 ? (s.messages ?? 0) : 0,
        lastSeen: s.lastSeen,
      })),
    ),
  );
}

function union<T>(a: readonly T[], b: readonly T[]): T[] {
  return [...new Set([...a, ...b])];
}

export function earliest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(b) < Date.parse(a) ? b : a;
}

export function latest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(b) > Date.parse(a) ? b : a;
}
