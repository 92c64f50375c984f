/**
 * `--format csv` for plan and verify: the usage step's per-sender dossiers as one CSV, for the team
 * that chases device owners. Formula-like cells are neutralised (dossierCsv).
 */
import { dossierCsv, type SenderDossier } from '../actions/smtp-auth/usage/dossier.js';
import type { PlanDocument, VerifyReport } from '../engine/types.js';
import { planBoardCsv, verifyBoardCsv } from './migration-board-csv.js';

function isDossier(value: unknown): value is SenderDossier {
  return typeof value === 'object' && value !== null && typeof (value as SenderDossier).sender === 'string' && Array.isArray((value as SenderDossier).sources);
}

/** The usage step's per-sender dossiers a plan carries (the fleet CSV reads them per tenant). */
export function planDossiers(plan: PlanDocument): SenderDossier[] {
  return plan.steps.flatMap((s) => {
    const list = s.data?.dossier;
    return Array.isArray(list) ? list.filter(isDossier) : [];
  });
}

export function verifyDossiers(report: VerifyReport): SenderDossier[] {
  return report.findings.flatMap((f) => (isDossier(f.data?.dossier) ? [f.data.dossier] : []));
}

export function renderPlanCsv(plan: PlanDocument): string {
  // A playbook that moves senders to OAuth exports its migration board instead (docs/PLAYBOOKS.md).
  const board = planBoardCsv(plan);
  if (board !== undefined) return board;
  return dossierCsv(planDossiers(plan));
}

export function renderVerifyCsv(report: VerifyReport): string {
  const board = verifyBoardCsv(report);
  if (board !== undefined) return board;
  return dossierCsv(verifyDossiers(report));
}
