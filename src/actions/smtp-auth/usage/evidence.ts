/**
 * Usage evidence: what one source told this run about who submits with SMTP AUTH. The lockout guard
 * trusts only evidence the run actually READ (complete) over the usage window; a source it could not
 * read (a historical search whose report is mailed) is listed too, incomplete, so the refusal can say
 * what is missing. A new usage source (Graph sign-in logs, the request-report CSV) plugs in by adding
 * one UsageEvidence to the usage step's observation; nothing else changes.
 */

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
}

/** Bounds may fall short of the usage window by this much: data is hours old, windows round to the hour. */
const SLACK_MS = 24 * 3600_000;

/**
 * Whether the evidence covers the `days` before `observedAt`. A source that does not date itself (the
 * admin center export has no date column) covers the period the admin chose when exporting it.
 */
export function coversWindow(evidence: UsageEvidence, days: number, observedAt: string | undefined): boolean {
  if (!evidence.complete) return false;
  if (evidence.windowStart === null && evidence.windowEnd === null) return true;
  if (evidence.windowStart === null || evidence.windowEnd === null || observedAt === undefined) return false;
  const end = Date.parse(observedAt);
  const start = end - days * 24 * 3600_000;
  return Date.parse(evidence.windowStart) <= start + SLACK_MS && Date.parse(evidence.windowEnd) >= end - SLACK_MS;
}

export function describeEvidence(evidence: UsageEvidence): string {
  const window = evidence.windowStart && evidence.windowEnd ? ` ${evidence.windowStart.slice(0, 10)}..${evidence.windowEnd.slice(0, 10)}` : '';
  return `${evidence.source} (${evidence.detail}${window})`;
}
