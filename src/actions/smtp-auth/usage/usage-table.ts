/**
 * The usage table: who still submits mail with SMTP AUTH. Kept in the plan (StepPlan.data), the
 * journal and the reports, and read by the lockout guard.
 */

export type AuthProtocol = 'Basic' | 'OAuth' | 'Unknown';

export interface UsageRow {
  sender: string;
  protocol: AuthProtocol;
  messages: number;
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
      seen.messages += row.messages;
      if (row.lastSeen !== null && (seen.lastSeen === null || row.lastSeen > seen.lastSeen)) seen.lastSeen = row.lastSeen;
    }
  }
  return [...merged.values()].sort((a, b) => b.messages - a.messages || a.sender.localeCompare(b.sender));
}

export function parseProtocol(text: string): AuthProtocol {
  if (/basic/i.test(text)) return 'Basic';
  if (/oauth|modern|xoauth/i.test(text)) return 'OAuth';
  return 'Unknown';
}
