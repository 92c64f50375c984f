/**
 * `--format csv` for plan and verify: the usage step's per-sender dossiers as one CSV, for the team
 * that chases device owners. Formula-like cells are neutralised (dossierCsv).
 */
import { dossierCsv, type SenderDossier } from '../actions/smtp-auth/usage/dossier.js';
import type { PlanDocument, VerifyReport } from '../engine/types.js';

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
  return dossierCsv(planDossiers(plan));
}

export function renderVerifyCsv(report: VerifyReport): string {
  return dossierCsv(verifyDossiers(report));
}
