/**
 * Control ids on every verify finding, so a report reads next to Maester's or ScubaGear's: our own
 * stable id per check (EXOPB-…), and for the organization switch the benchmark controls it satisfies.
 *
 * Sources (checked 2026-12-07):
 * - CIS Microsoft 365 Foundations Benchmark v4.0.0, recommendation 6.5.4 (L1) "Ensure SMTP AUTH is
 *   disabled" (Set-TransportConfig -SmtpClientAuthenticationDisabled $true), as listed in Tenable's
 *   audit of that benchmark: https://www.tenable.com/audits/items/CIS_Microsoft_365_Foundations_v4.0.0_L1_E3.audit
 * - CISA SCuBA Exchange Online baseline, policy MS.EXO.5.1v1 "SMTP AUTH SHALL be disabled.", as Maester
 *   tests it (Test-MtCisaSmtpAuthentication): https://maester.dev/docs/tests/CISA.MS.EXO.5.1
 *
 * The table in docs/REVIEWING.md ("Control ids") lists the same ids; an id, once shipped, never moves to
 * another check. A check without an entry (a new one) gets EXOPB-X-<CHECK>, still stable, and a test
 * fails until it is given its own row here and in the docs.
 */
import type { Finding } from '../actions/types.js';

export interface ControlReference {
  /** The framework, e.g. "CIS Microsoft 365 Foundations Benchmark v4.0.0". */
  framework: string;
  /** Its control id, e.g. "6.5.4". */
  id: string;
  title: string;
}

export interface CheckControl {
  /** Our stable id, e.g. "EXOPB-SMTP-001". */
  id: string;
  /** What the check asserts. */
  title: string;
  references: ControlReference[];
}

export const CIS_6_5_4: ControlReference = { framework: 'CIS Microsoft 365 Foundations Benchmark v4.0.0', id: '6.5.4', title: 'Ensure SMTP AUTH is disabled' };
export const CISA_EXO_5_1: ControlReference = { framework: 'CISA SCuBA Exchange Online baseline', id: 'MS.EXO.5.1v1', title: 'SMTP AUTH SHALL be disabled' };

/** check → control. Ids are stable: append, never renumber. */
export const CHECK_CONTROLS: Readonly<Record<string, CheckControl>> = {
  'organization-off': { id: 'EXOPB-SMTP-001', title: 'SMTP AUTH is off for the organization', references: [CIS_6_5_4, CISA_EXO_5_1] },
  'organization-on': { id: 'EXOPB-SMTP-002', title: 'SMTP AUTH is on for the organization, as the playbook asks', references: [] },
  'allowlisted-on': { id: 'EXOPB-SMTP-003', title: 'Each allowlisted mailbox exists and keeps SMTP AUTH', references: [] },
  'allowlisted-basic-auth': { id: 'EXOPB-SMTP-004', title: "An allowlisted mailbox's authentication policy lets Basic SMTP AUTH through", references: [] },
  'others-off': { id: 'EXOPB-SMTP-005', title: 'SMTP AUTH is off for every mailbox not allowlisted', references: [] },
  'allowlisted-exists': { id: 'EXOPB-SMTP-006', title: 'Each allowlist entry matches a mailbox', references: [] },
  'allowlisted-explicit': { id: 'EXOPB-SMTP-007', title: 'Each allowlisted mailbox has an explicit $false (SMTP AUTH on whatever the organization says)', references: [] },
  'no-stray-overrides': { id: 'EXOPB-SMTP-008', title: 'No mailbox outside the allowlist has an explicit $false', references: [] },
  probe: { id: 'EXOPB-SMTP-009', title: 'A live SMTP AUTH probe gives the expected answer', references: [] },
  'basic-default-change': { id: 'EXOPB-SMTP-010', title: "The probe's answer is explained by Microsoft's Basic SMTP AUTH default change", references: [] },
  'usage-report': { id: 'EXOPB-USAGE-001', title: 'The usage report could be read', references: [] },
  'usage-source': { id: 'EXOPB-USAGE-002', title: 'Each usage evidence source is complete and current', references: [] },
  'usage-search': { id: 'EXOPB-USAGE-003', title: 'The historical search for SMTP AUTH usage has a result', references: [] },
  'usage-sender': { id: 'EXOPB-USAGE-004', title: 'A sender seen in usage data keeps working', references: [] },
  'usage-sender-off': { id: 'EXOPB-USAGE-005', title: 'A sender seen in usage data has SMTP AUTH off (its submissions fail)', references: [] },
  'basic-smtp-deadline': { id: 'EXOPB-USAGE-006', title: 'A Basic SMTP AUTH sender stops working when Basic auth is switched off (end of December 2026)', references: [] },
  'usage-new-sender': { id: 'EXOPB-USAGE-007', title: 'No sender appeared since the previous run', references: [] },
  'powershell-read': { id: 'EXOPB-PS-001', title: 'A read-only PowerShell step returned objects', references: [] },
  'powershell-smtp-auth': { id: 'EXOPB-PS-002', title: "A PowerShell step's SMTP AUTH write holds", references: [] },
  'oauth-service-principal': { id: 'EXOPB-OAUTH-001', title: 'The app has its Exchange service principal with the Enterprise application object id', references: [] },
  'oauth-granted': { id: 'EXOPB-OAUTH-002', title: 'The app is granted SMTP.SendAsApp on the mailbox it sends as', references: [] },
  'oauth-smtp-auth-on': { id: 'EXOPB-OAUTH-003', title: 'SMTP AUTH stays on for a mailbox an app sends as with OAuth', references: [] },
  'oauth-proven': { id: 'EXOPB-OAUTH-004', title: 'An XOAUTH2 sign-in as the mailbox succeeds for the app', references: [] },
  'oauth-basic-still-used': { id: 'EXOPB-OAUTH-005', title: 'A sender proven on OAuth no longer submits with Basic', references: [] },
  'oauth-no-stray-grants': { id: 'EXOPB-OAUTH-006', title: 'No SMTP.SendAsApp grant exists beyond the ones the playbook names (exclusive)', references: [] },
  restored: { id: 'EXOPB-RB-001', title: 'Rollback restored the value it journaled', references: [] },
  derivable: { id: 'EXOPB-RB-002', title: 'Rollback can derive the inverse of each write', references: [] },
};

/** The control of a check; a check with no entry gets a stable id derived from its name. */
export function controlOf(check: string): CheckControl {
  const known = Object.hasOwn(CHECK_CONTROLS, check) ? CHECK_CONTROLS[check] : undefined;
  if (known) return known;
  return { id: `EXOPB-X-${check.toUpperCase().replace(/[^A-Z0-9]+/g, '-')}`, title: check, references: [] };
}

/** The finding with its control id and references (what --format json carries). */
export function withControl(finding: Finding): Finding {
  const control = controlOf(finding.check);
  return { ...finding, controlId: control.id, ...(control.references.length ? { references: control.references.map((r) => ({ ...r })) } : {}) };
}

/** "EXOPB-SMTP-001 · CIS 6.5.4 · CISA MS.EXO.5.1v1": the ids a reader looks for, short. */
export function controlLabel(finding: Pick<Finding, 'check'>): string {
  const c = controlOf(finding.check);
  return [c.id, ...c.references.map((r) => `${r.framework.startsWith('CIS ') ? 'CIS' : r.framework.startsWith('CISA') ? 'CISA' : r.framework} ${r.id}`)].join(' · ');
}
