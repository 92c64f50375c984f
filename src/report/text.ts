/**
 * Plain-text reports for a terminal or a scheduler's log. Colour only when the caller says so (a TTY
 * without NO_COLOR); without it the output has no escape codes at all. The change reference comes
 * first: it is what an operator matches against the ticket.
 */
import type { Change, Finding, ReportTable, Risk, StepPlan } from '../actions/types.js';
import type { ApplyReport, PlanDocument, PlaybookRef, TenantRef, VerifyReport } from '../engine/types.js';
import { riskCount } from '../actions/smtp-auth/usage/usage-table.js';

export interface TextOptions {
  color: boolean;
  /** Lists longer than this show their first items and a count (100,000 mailboxes must stay readable). */
  maxListed?: number;
}

const DEFAULT_MAX = 20;

type Paint = (code: number, text: string) => string;
const painter = (color: boolean): Paint => (code, text) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);

export function formatPsValue(value: unknown): string {
  if (value === null || value === undefined) return '$null';
  if (value === true) return '$true';
  if (value === false) return '$false';
  if (Array.isArray(value)) return value.length ? value.map(formatPsValue).join(', ') : '(none)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Strips control characters, so a hostile display name cannot move the cursor or fake a line. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?');
}

function header(title: string, playbook: PlaybookRef, tenant: TenantRef, paint: Paint): string[] {
  return [
    ...(playbook.change ? [paint(1, `Change: ${clean(playbook.change)}`)] : []),
    paint(1, title),
    `Tenant:   ${tenant.organization} (${tenant.target})`,
    `Playbook: ${playbook.file} (sha256 ${playbook.hash.replace(/^sha256:/, '').slice(0, 12)})`,
  ];
}

function limited<T>(items: readonly T[], max: number, line: (item: T) => string, indent: string): string[] {
  const shown = items.slice(0, max).map((i) => `${indent}${line(i)}`);
  if (items.length > max) shown.push(`${indent}... and ${items.length - max} more`);
  return shown;
}

function riskLine(risk: Risk, paint: Paint): string {
  const tag = risk.blocking && !risk.accepted ? paint(31, 'BLOCKING') : risk.accepted ? paint(33, 'accepted') : paint(33, risk.kind);
  return `${tag} ${clean(risk.subject)}: ${clean(risk.message)}${riskCount(risk)}`;
}

function changeLines(change: Change, paint: Paint): string[] {
  return [
    `${paint(33, '~')} ${clean(change.target)}  ${change.property}  ${formatPsValue(change.before)} -> ${paint(32, formatPsValue(change.after))}`,
    `    why: ${clean(change.reason)}`,
  ];
}

function stepLines(step: StepPlan, max: number, paint: Paint): string[] {
  const n = step.changes.length;
  const lines = [``, paint(1, `Step ${step.stepId} (${step.uses}): ${n === 0 ? 'no changes' : `${n} change${n === 1 ? '' : 's'}`}`)];
  step.changes.slice(0, max).forEach((c) => lines.push(...changeLines(c, paint).map((l) => `  ${l}`)));
  if (n > max) lines.push(`  ... and ${n - max} more changes (--format json lists all)`);
  lines.push(...limited(step.inDesiredState, max, (s) => `= ${clean(s)}`, '  '));
  lines.push(...step.notes.map((s) => `  note: ${clean(s)}`));
  for (const t of step.tables ?? []) lines.push(...tableLines(t, max));
  lines.push(...limited(step.risks, max, (r) => riskLine(r, paint), '  '));
  return lines;
}

/** Columns padded to their widest cell; long tables show their first rows and a count. */
function tableLines(t: ReportTable, max: number): string[] {
  const cells = [t.columns, ...t.rows.slice(0, max).map((row) => row.map((v) => clean(v === null ? '-' : String(v))))];
  const widths = t.columns.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const lines = [`  ${t.title}:`, ...cells.map((row) => `    ${row.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd()}`)];
  if (t.rows.length > max) lines.push(`    ... and ${t.rows.length - max} more (--format json lists all)`);
  return lines;
}

export function renderPlanText(plan: PlanDocument, options: TextOptions): string {
  const paint = painter(options.color);
  const max = options.maxListed ?? DEFAULT_MAX;
  const lines = header(plan.kind === 'rollback' ? `Rollback plan: ${plan.playbook.name}` : `Plan: ${plan.playbook.name}`, plan.playbook, plan.tenant, paint);
  lines.push(`Observed: ${plan.createdAt} (fingerprint ${plan.fingerprint.replace(/^sha256:/, '').slice(0, 12)})`);
  for (const step of plan.steps) lines.push(...stepLines(step, max, paint));
  if (plan.risks.length) {
    lines.push('', paint(1, 'Risks'));
    lines.push(...limited(plan.risks, max, (r) => riskLine(r, paint), '  '));
  }
  const { changes, inDesiredState, blockingRisks } = plan.summary;
  lines.push('', `Summary: ${changes} change${changes === 1 ? '' : 's'}, ${inDesiredState} already as desired, ${blockingRisks} blocking risk${blockingRisks === 1 ? '' : 's'}`);
  return `${lines.join('\n')}\n`;
}

const STATUS: Record<Finding['status'], [number, string]> = { pass: [32, 'PASS'], fail: [31, 'FAIL'], warn: [33, 'WARN'] };

function findingLines(findings: readonly Finding[], max: number, paint: Paint): string[] {
  const lines: string[] = [];
  const steps = [...new Set(findings.map((f) => f.stepId))];
  for (const stepId of steps) {
    const own = findings.filter((f) => f.stepId === stepId);
    lines.push('', paint(1, `Step ${stepId}`));
    // Failures and warnings are what the reader came for: never cut them; passes may be summarised.
    for (const f of own.filter((x) => x.status !== 'pass')) lines.push(`  ${paint(...STATUS[f.status])} ${f.check} ${clean(f.subject)}: ${clean(f.message)}`);
    lines.push(...limited(own.filter((x) => x.status === 'pass'), max, (f) => `${paint(...STATUS.pass)} ${f.check} ${clean(f.subject)}: ${clean(f.message)}`, '  '));
  }
  return lines;
}

export function renderVerifyText(report: VerifyReport, options: TextOptions): string {
  const paint = painter(options.color);
  const lines = header(`Verify: ${report.playbook.name}`, report.playbook, report.tenant, paint);
  lines.push(`Checked:  ${report.checkedAt}`);
  lines.push(...findingLines(report.findings, options.maxListed ?? DEFAULT_MAX, paint));
  const { pass, fail, warn } = report.summary;
  lines.push('', `${report.compliant ? paint(32, 'COMPLIANT') : paint(31, 'DRIFT')}: ${pass} pass, ${fail} fail, ${warn} warn`);
  return `${lines.join('\n')}\n`;
}

export function renderApplyText(report: ApplyReport, options: TextOptions): string {
  const paint = painter(options.color);
  const max = options.maxListed ?? DEFAULT_MAX;
  const { applied, failed, skipped } = report.summary;
  const lines = [paint(1, `${report.plan.kind === 'rollback' ? 'Rollback' : 'Apply'} result: ${applied} applied, ${failed} failed, ${skipped} skipped${report.interrupted ? ' (interrupted)' : ''}`)];
  lines.push(`Run directory: ${report.runDir}`);
  if (report.writeCalls !== undefined) lines.push(`Write calls: ${report.writeCalls}`);
  const failures = report.results.filter((r) => r.status === 'failed');
  if (failures.length) {
    lines.push('', paint(31, 'Failed changes'));
    for (const r of failures) lines.push(`  ${clean(r.target)} ${r.property} -> ${formatPsValue(r.after)}: ${clean(r.error ?? 'failed')} (${r.attempts} attempt${r.attempts === 1 ? '' : 's'})`);
  }
  const skippedResults = report.results.filter((r) => r.status === 'skipped');
  if (skippedResults.length) {
    lines.push('', 'Skipped changes');
    lines.push(...limited(skippedResults, max, (r) => `${clean(r.target)} ${r.property}: ${clean(r.error ?? '')}`, '  '));
  }
  if (report.verify) {
    lines.push('', renderVerifyText(report.verify, options).trimEnd());
  } else if (report.interrupted) {
    lines.push(
      '',
      report.plan.kind === 'rollback'
        ? 'Not verified: the rollback was interrupted. Run the same rollback again to finish.'
        : `Not verified: the run was interrupted. Run apply again to finish, or rollback ${report.runDir} to undo.`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** True when renderPlanText (at its default length) shortened some list: the plan shown is not all of it. */
export function planTextIsCut(plan: PlanDocument, maxListed = DEFAULT_MAX): boolean {
  const long = (n: number) => n > maxListed;
  return long(plan.risks.length) || plan.steps.some((s) => long(s.changes.length) || long(s.inDesiredState.length) || long(s.risks.length) || (s.tables ?? []).some((t) => long(t.rows.length)));
}
