/**
 * Usage evidence. Two views of what a source told this run:
 * - UsageEvidence (the lockout guard's contract): the source, its window, whether this run read all of
 *   it, and the senders it names. The guard trusts only complete evidence over the usage window.
 * - SourceReading (the usage step's): the same source in full, per sender (protocols, counts, dates,
 *   client IPs, TLS, failures) with what the source cannot see; mergeEvidence folds readings into one
 *   record per sender for the dossier, and evidenceOf turns a reading into the guard's record.
 */
import { mergeUsageRows, type AuthProtocol, type UsageRow } from './usage-table.js';

export interface UsageEvidence {
  /** Stable name of the source, e.g. "admin-center-csv", "historical-search". */
  source: string;
  /** For humans: which file, which job. */
  detail: string;
  /** The period the source covers (ISO-8601 UTC); both null when the source does not date itself. */
  windowStart: string | null;
  windowEnd: string | null;
  /** True only when this run read all of it: its senders are every sender the source saw in its window. */
  complete: boolean;
  /** Sender addresses the source names, lower-case (empty when it was not read). */
  senders: string[];
  /** Why it is incomplete, in a reviewer's words. */
  missing?: string;
  /** Where the period came from, in words ("from the data", "from the playbook", "from the file's modification time"). */
  periodFrom?: string;
  /** The usage step's key that named this source (report, requestReport, signInLogs, emailAppUsage): what acceptStaleEvidence names. */
  key?: EvidenceKey;
}

/** The usage step's keys that name a source (acceptStaleEvidence names them). */
export type EvidenceKey = 'report' | 'requestReport' | 'signInLogs' | 'emailAppUsage' | 'history';

/** The period a source covers, and where that came from (the data, the playbook, the file's time). */
export interface EvidencePeriod {
  start: string;
  end: string;
  from: string;
}

const DAY_MS = 86_400_000;

/** How many whole days before `runAt` the evidence's period ended (0 when it ends at or after it); null when undated. */
export function evidenceAgeDays(evidence: Pick<UsageEvidence, 'windowEnd'>, runAt: string | undefined): number | null {
  if (evidence.windowEnd === null || runAt === undefined) return null;
  const age = Date.parse(runAt) - Date.parse(evidence.windowEnd);
  if (Number.isNaN(age)) return null;
  return Math.max(0, Math.floor(age / DAY_MS));
}

/** Whether the evidence's period ended more than `maxAgeDays` (exactly, not in whole days) before `runAt`. */
export function isStale(evidence: Pick<UsageEvidence, 'windowEnd'>, runAt: string | undefined, maxAgeDays: number): boolean {
  if (evidence.windowEnd === null || runAt === undefined) return false;
  return Date.parse(runAt) - Date.parse(evidence.windowEnd) > maxAgeDays * DAY_MS;
}

/** How to make each source fresh again. */
export const REFRESH: Record<EvidenceKey, string> = {
  report: 'export Reports > Mail flow > SMTP AUTH clients report again and set exportedAt: (and periodDays:) beside report:',
  requestReport: "request the report again (admin center, SMTP AUTH clients report > Request report, or the audit playbook's historical search) and download the new file",
  signInLogs: 'sign-in logs are read at each run: check the Graph request succeeded',
  emailAppUsage: "Microsoft refreshes the email app usage report daily: run again once it has been refreshed",
  history: "run the verify of the playbook that wrote the history: file (smtp-auth-usage.yaml) again, with fresh sources",
};

export function describeEvidence(evidence: UsageEvidence): string {
  const window = evidence.windowStart && evidence.windowEnd ? ` ${evidence.windowStart.slice(0, 10)}..${evidence.windowEnd.slice(0, 10)}` : '';
  return `${evidence.source} (${evidence.detail}${window})`;
}


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
  /**
   * Email app usage only: the user's "Last Activity Date", which is the last activity in ANY email app
   * (one date per user across Outlook, mobile, POP, IMAP, SMTP...), never the SMTP last-seen date.
   */
  lastEmailAppActivity?: string | null;
}

/**
 * What one source showed this run, in full: per sender, with the period it covers and what it cannot
 * see. The usage step keeps these (`readings`) for the dossier; `evidenceOf` gives the guard its view.
 */
export interface SourceReading {
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
  /** The period as dates (ISO), where the source's period is known; absent: undated. */
  windowStart?: string | null;
  windowEnd?: string | null;
  /** Where the period came from, in words. */
  periodFrom?: string;
  /** The usage step's key that named this source ('history' for an earlier run's saved reading). */
  key?: EvidenceKey;
  /** Set when the reading is an earlier run's, read back from the history: file. */
  savedBy?: { playbook: string; at: string; file: string };
}

export interface MergedSender extends SenderEvidence {
  sources: UsageSourceKind[];
  /** Every address the sources used for it (a device may sign in with the UPN and send as the primary). */
  addresses: string[];
}

const SOURCE_ORDER: UsageSourceKind[] = ['admin-center-report', 'request-report', 'entra-sign-ins', 'email-app-usage'];
const PROTOCOL_ORDER: AuthProtocol[] = ['Basic', 'OAuth', 'Unknown'];

export function mergeEvidence(evidence: readonly SourceReading[]): MergedSender[] {
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
      merged.messages = largest(merged.messages, seen.messages);
      merged.firstSeen = earliest(merged.firstSeen, seen.firstSeen);
      merged.lastSeen = latest(merged.lastSeen, seen.lastSeen);
      const app = latest(merged.lastEmailAppActivity ?? null, seen.lastEmailAppActivity ?? null);
      if (app !== null) merged.lastEmailAppActivity = app;
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
 * sender, named as the sources named it (the primary address when a source used it, else the first
 * address seen). Addresses no mailbox has stay as they are.
 */
export function foldByMailbox(senders: readonly MergedSender[], mailboxOf: (address: string) => string | null): MergedSender[] {
  const byKey = new Map<string, MergedSender>();
  for (const s of senders) {
    const key = (mailboxOf(s.sender) ?? s.sender).toLowerCase();
    const seen = byKey.get(key);
    if (!seen) {
      byKey.set(key, { ...s, addresses: [...s.addresses] });
      continue;
    }
    if (s.sender === key) seen.sender = key;
    seen.protocols = union(seen.protocols, s.protocols);
    seen.messages = largest(seen.messages, s.messages);
    seen.firstSeen = earliest(seen.firstSeen, s.firstSeen);
    seen.lastSeen = latest(seen.lastSeen, s.lastSeen);
    const app = latest(seen.lastEmailAppActivity ?? null, s.lastEmailAppActivity ?? null);
    if (app !== null) seen.lastEmailAppActivity = app;
    seen.clientIps = union(seen.clientIps, s.clientIps);
    seen.tlsVersions = union(seen.tlsVersions, s.tlsVersions);
    if (s.failures !== undefined) seen.failures = (seen.failures ?? 0) + s.failures;
    seen.sources = union(seen.sources, s.sources);
    seen.addresses = union(seen.addresses, s.addresses);
  }
  return tidy([...byKey.values()]);
}

/** Two counts of the same submissions: the larger; unknown only when neither source counted. */
function largest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
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
        // No source counted (sign-in logs, app usage): unknown, never 0.
        messages: i === 0 ? s.messages : null,
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

/** Guard names of the sources (the admin center export keeps the name the guard gave it first). */
const GUARD_SOURCE: Record<UsageSourceKind, string> = {
  'admin-center-report': 'admin-center-csv',
  'request-report': 'request-report',
  'entra-sign-ins': 'entra-sign-in-logs',
  'email-app-usage': 'email-app-usage',
};

/** The lockout guard's view of a reading: complete or not, over which dates, naming whom. */
export function evidenceOf(reading: SourceReading): UsageEvidence {
  return {
    source: GUARD_SOURCE[reading.source],
    detail: reading.label,
    windowStart: reading.windowStart ?? null,
    windowEnd: reading.windowEnd ?? null,
    complete: reading.complete,
    senders: [...new Set(reading.senders.map((s) => s.sender.toLowerCase()))],
    ...(reading.periodFrom ? { periodFrom: reading.periodFrom } : {}),
    ...(reading.key ? { key: reading.key } : {}),
    ...(reading.complete ? {} : { missing: reading.warnings.join('; ') || 'not read completely by this run' }),
  };
}
