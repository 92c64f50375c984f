/**
 * Each sender's migration state (the board): plan shows it with the state after apply, verify in its
 * findings, `--format csv` exports it (src/report/migration-board-csv.ts).
 */
import type { Change, ReportTable } from '../../types.js';
import type { UsageObserved } from '../usage/index.js';
import type { OAuthSendersObserved } from './observe.js';
import type { ProofResult } from './proof.js';
import { lower, mailboxOf, senderGrants, type Input } from './senders.js';

export type MigrationState = 'basic-only' | 'oauth-provisioned' | 'oauth-proven' | 'basic-stopped';

export const MIGRATION_STATE_LABEL: Record<MigrationState, string> = {
  'basic-only': 'Basic only',
  'oauth-provisioned': 'OAuth provisioned',
  'oauth-proven': 'OAuth proven',
  'basic-stopped': 'Basic stopped',
};

export interface BoardRow {
  app: string;
  appId: string;
  mailbox: string;
  grant: string;
  state: MigrationState;
  /** For a plan: the state once apply has written this plan (a proof runs in the verify after apply). */
  afterApply?: MigrationState;
  /** The proof's outcome and the server's words, when one ran. */
  proof?: string;
  /** Basic submissions of the mailbox in this run's usage evidence. */
  /** Basic submissions the usage evidence shows by the mailbox; null when a source saw them but gave no count. */
  basicMessages?: number | null;
}

export function proofOf(observed: OAuthSendersObserved, appId: string, mailbox: string): ProofResult | undefined {
  return observed.volatile?.proofs.find((p) => p.appId === appId && lower(p.mailbox) === lower(mailbox));
}

/** Basic submissions of a mailbox (any of its addresses) in this run's usage evidence; undefined without a usage step. */
function basicTraffic(observations: ReadonlyMap<string, unknown>, addresses: readonly string[]): { messages: number | null; rows: number; lastSeen: string | null } | undefined {
  const usage = [...observations.values()].filter((o): o is UsageObserved => typeof o === 'object' && o !== null && (o as { kind?: unknown }).kind === 'smtp-auth-usage');
  if (usage.length === 0) return undefined;
  const wanted = new Set(addresses.map(lower));
  // A row whose count no source gave still is Basic traffic: the sum is then unknown (null), never 0.
  let messages: number | null = 0;
  let rows = 0;
  let lastSeen: string | null = null;
  for (const u of usage) {
    for (const row of u.rows) {
      if (row.protocol !== 'Basic' || !wanted.has(lower(row.sender))) continue;
      rows += 1;
      messages = messages === null || row.messages === null ? null : messages + row.messages;
      if (row.lastSeen && (!lastSeen || row.lastSeen > lastSeen)) lastSeen = row.lastSeen;
    }
  }
  return { messages, rows, lastSeen };
}

/**
 * Each sender's place on the way off Basic: Basic only → OAuth provisioned (the grant exists) →
 * OAuth proven (an XOAUTH2 sign-in as the mailbox succeeded in this run) → Basic stopped (proven, and
 * this run's usage evidence shows no Basic submission by the mailbox; without a usage step the
 * board never claims it).
 */
export function migrationBoard(input: Input, changes: readonly Change[] = []): BoardRow[] {
  return senderGrants(input.with, input.observed).map((s) => {
    const proof = proofOf(input.observed, s.appId, s.mailbox);
    const addresses = mailboxOf(input.observed, s.appId, s.mailbox)?.addresses ?? [s.mailbox];
    const basic = basicTraffic(input.observations, addresses);
    const state: MigrationState = !s.granted ? 'basic-only' : proof?.outcome !== 'proven' ? 'oauth-provisioned' : basic !== undefined && basic.rows === 0 ? 'basic-stopped' : 'oauth-proven';
    const planned = changes.some((c) => c.before === null && lower(c.target) === lower(s.mailbox) && (c.property === 'ManagementRoleAssignment' || c.property === 'MailboxPermission'));
    return {
      app: s.displayName,
      appId: s.appId,
      mailbox: s.mailbox,
      grant: s.grant,
      state,
      afterApply: planned ? 'oauth-provisioned' : state,
      ...(proof ? { proof: proof.evidence ? `${proof.outcome}: ${proof.evidence}` : proof.outcome } : {}),
      ...(basic ? { basicMessages: basic.messages } : {}),
    };
  });
}

export function senderTable(input: Input, changes: readonly Change[]): ReportTable {
  const rows = migrationBoard(input, changes).map((r) => [r.app, r.mailbox, r.grant, MIGRATION_STATE_LABEL[r.state], MIGRATION_STATE_LABEL[r.afterApply ?? r.state], r.proof ?? '']);
  return { title: 'OAuth senders (migration state)', columns: ['App', 'Mailbox', 'Grant', 'Now', 'After apply', 'Proof'], rows };
}

