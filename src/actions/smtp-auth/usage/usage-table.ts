/**
 * The usage table: who still submits mail with SMTP AUTH. Kept in the plan (StepPlan.data), the
 * journal and the reports, and read by the lockout guard.
 */

export type AuthProtocol = 'Basic' | 'OAuth' | 'Unknown';

export interface UsageRow {
  sender: string;
  protocol: AuthProtocol;
  /** null: no source counted this sender's messages (sign-in logs and app usage count none). Never 0 for unknown. */
  messages: number | null;
  /** ISO-8601 date or date-time as the source gave it; null when the source has no such column. */
  lastSeen: string | null;
}

/** One row per (sender, protocol), messages summed, latest lastSeen kept, busiest first. */
export function mergeUsageRows(rows: readonly UsageRow[]): UsageRow[] {
  const merged = new Map<string, UsageRow>();
  for (const row of rows) {
    const key = `${row.sender.toLowerCase()}\u0000${row.protocol}`;
    const seen = merged.get(key);
    if (!seen) merged.set(key, { ...row });
    else {
      seen.messages = addCounts(seen.messages, row.messages);
      if (row.lastSeen !== null && (seen.lastSeen === null || row.lastSeen > seen.lastSeen)) seen.lastSeen = row.lastSeen;
    }
  }
  return [...merged.values()].sort(byMessages);
}

/** Counts of different submissions added; an unknown count adds nothing, and stays unknown only alone. */
export function addCounts(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : a + b;
}

/** Busiest first (unknown counts last), then by address. */
export function byMessages(a: Pick<UsageRow, 'sender' | 'messages'>, b: Pick<UsageRow, 'sender' | 'messages'>): number {
  return (b.messages ?? -1) - (a.messages ?? -1) || a.sender.localeCompare(b.sender);
}

/** " (27 messages)" after a risk, or " (message count unknown)" when no source counted: never "(0 messages)". */
export function riskCount(risk: { messages?: number | null }): string {
  if (risk.messages === undefined) return '';
  return risk.messages === null ? ' (message count unknown)' : ` (${risk.messages} messages)`;
}

/** A message count as every report shows it: the number, or "unknown" when no source counted. */
export function countText(messages: number | null | undefined): string {
  return typeof messages === 'number' ? String(messages) : 'unknown';
}

export function parseProtocol(text: string): AuthProtocol {
  if (/basic/i.test(text)) return 'Basic';
  if (/oauth|modern|xoauth/i.test(text)) return 'OAuth';
  return 'Unknown';
}
