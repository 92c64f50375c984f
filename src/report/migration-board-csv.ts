/**
 * `--format csv` of a plan or verify whose playbook moves senders to OAuth (smtp-auth/oauth-senders):
 * the migration board, one line per app and mailbox, for the team chasing device owners. Cells are
 * neutralised like the dossier's (csvCell: no formula can start a cell).
 */
import { csvCell } from '../actions/smtp-auth/usage/dossier.js';
import { MIGRATION_STATE_LABEL, type BoardRow, type MigrationState } from '../actions/smtp-auth/oauth-senders/board.js';
import type { PlanDocument, VerifyReport } from '../engine/types.js';

export const BOARD_CSV_COLUMNS = ['App', 'App id', 'Mailbox', 'Grant', 'State', 'After apply', 'Proof', 'Basic messages in usage data'];

const label = (state: unknown) => (typeof state === 'string' && state in MIGRATION_STATE_LABEL ? MIGRATION_STATE_LABEL[state as MigrationState] : '');

function csv(rows: (string | number | undefined)[][]): string {
  return `\uFEFF${[BOARD_CSV_COLUMNS, ...rows].map((row) => row.map((v) => csvCell(v === undefined ? '' : String(v))).join(',')).join('\r\n')}\r\n`;
}

function isBoardRow(v: unknown): v is BoardRow {
  return typeof v === 'object' && v !== null && typeof (v as BoardRow).mailbox === 'string' && typeof (v as BoardRow).state === 'string';
}

/** The plan's board, or undefined when no step keeps one. */
export function planBoardCsv(plan: PlanDocument): string | undefined {
  const rows = plan.steps.flatMap((s) => (Array.isArray(s.data?.senders) ? (s.data.senders as unknown[]).filter(isBoardRow) : []));
  if (!plan.steps.some((s) => s.uses === 'smtp-auth/oauth-senders')) return undefined;
  return csv(rows.map((r) => [r.app, r.appId, r.mailbox, r.grant, label(r.state), label(r.afterApply ?? r.state), r.proof, r.basicMessages === null ? 'unknown' : r.basicMessages]));
}

/** The board from verify's findings (oauth-granted carries each sender's state, oauth-proven its proof). */
export function verifyBoardCsv(report: VerifyReport): string | undefined {
  const granted = report.findings.filter((f) => f.check === 'oauth-granted' && f.data);
  if (granted.length === 0) return undefined;
  const rows = granted.map((f) => {
    const d = f.data as { app?: string; appId?: string; grant?: string; migrationState?: string; basicMessages?: number | null };
    const proof = report.findings.find((p) => p.check === 'oauth-proven' && p.subject === f.subject && (p.data as { appId?: string } | undefined)?.appId === d.appId);
    const p = proof?.data as { outcome?: string; evidence?: string } | undefined;
    return [d.app, d.appId, f.subject, d.grant, label(d.migrationState), '', p ? (p.evidence ? `${p.outcome}: ${p.evidence}` : p.outcome) : '', d.basicMessages === null ? 'unknown' : d.basicMessages];
  });
  return csv(rows);
}
