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
  /**
   * The terminal's width: tables drop their least important columns (then wrap) to fit, and say which
   * they dropped. Absent (or Infinity, `--wide`): tables are printed whole.
   */
  width?: number;
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

function stepLines(step: StepPlan, max: number, paint: Paint, width: number): string[] {
  const n = step.changes.length;
  const lines = [``, paint(1, `Step ${step.stepId} (${step.uses}): ${n === 0 ? 'no changes' : `${n} change${n === 1 ? '' : 's'}`}`)];
  step.changes.slice(0, max).forEach((c) => lines.push(...changeLines(c, paint).map((l) => `  ${l}`)));
  if (n > max) lines.push(`  ... and ${n - max} more changes (--format json lists all)`);
  lines.push(...limited(step.inDesiredState, max, (s) => `= ${clean(s)}`, '  '));
  lines.push(...step.notes.map((s) => `  note: ${clean(s)}`));
  for (const t of step.tables ?? []) lines.push(...tableLines(t, max, width));
  lines.push(...riskLines(step.risks, max, paint, adviceBySender([step]), '  ', width));
  return lines;
}

/**
 * Risks: every blocking one is listed (it is what apply refuses on, and the reader must see all of
 * them before the refusal); the others are shortened. Advice is printed once per kind, with the
 * senders it applies to, not repeated on every line.
 */
function riskLines(risks: readonly Risk[], max: number, paint: Paint, advice: ReadonlyMap<string, readonly string[]>, indent: string, width: number): string[] {
  const grouped = new AdviceGroups();
  const line = (r: Risk) => riskLine({ ...r, message: grouped.take(r.subject, r.message, advice.get(r.subject.toLowerCase())) }, paint);
  const blocking = risks.filter((r) => r.blocking && !r.accepted);
  const others = risks.filter((r) => !(r.blocking && !r.accepted));
  return [...blocking.map((r) => `${indent}${line(r)}`), ...limited(others, max, line, indent), ...grouped.lines(indent, width)];
}

/** The advice lists the usage step keeps per sender (its dossiers), for grouping. */
function adviceBySender(steps: readonly Pick<StepPlan, 'data'>[]): Map<string, readonly string[]> {
  const map = new Map<string, readonly string[]>();
  for (const step of steps) {
    const dossiers = step.data?.dossier;
    if (!Array.isArray(dossiers)) continue;
    for (const d of dossiers as { sender?: unknown; advice?: unknown }[]) {
      if (typeof d.sender === 'string' && Array.isArray(d.advice) && d.advice.every((a) => typeof a === 'string')) map.set(d.sender.toLowerCase(), d.advice as string[]);
    }
  }
  return map;
}

/**
 * Collects advice per kind: `take` cuts a message's trailing "Advice: …" (when it is exactly the
 * sender's advice list) and remembers the sender under each piece; `lines` prints each piece once.
 */
class AdviceGroups {
  private readonly groups = new Map<string, string[]>();

  take(subject: string, message: string, advice: readonly string[] | undefined): string {
    if (!advice?.length) return message;
    const tail = `Advice: ${advice.join('; ')}`;
    if (!message.endsWith(tail)) return message;
    for (const piece of advice) {
      const senders = this.groups.get(piece) ?? [];
      if (!senders.includes(subject)) senders.push(subject);
      this.groups.set(piece, senders);
    }
    return `${message.slice(0, -tail.length).replace(/[.;,:]?\s*$/, '')} (advice below)`;
  }

  lines(indent: string, width: number): string[] {
    if (this.groups.size === 0) return [];
    const out = [`${indent}Advice (once per kind, with the senders it applies to):`];
    for (const [piece, senders] of this.groups) {
      out.push(...wrapText(`- ${clean(piece)}`, width, `${indent}  `, `${indent}    `));
      out.push(...wrapText(`${senders.length === 1 ? 'sender' : `${senders.length} senders`}: ${senders.map(clean).join(', ')}`, width, `${indent}    `, `${indent}      `));
    }
    return out;
  }
}

/** Words to lines of at most `width` characters (a longer word gets its own line, never split). */
export function wrapText(text: string, width: number, first: string, rest: string): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let current = first;
  let empty = true;
  for (const word of words) {
    if (!empty && current.length + 1 + word.length > width) {
      lines.push(current);
      current = rest;
      empty = true;
    }
    current += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(current);
  return lines;
}

/**
 * Which columns a narrow terminal keeps longest: who, what happens to it, how much it sends; the
 * detail (IPs, TLS, sources, first seen) goes first. Columns not named keep their table order, after these.
 */
const COLUMN_IMPORTANCE = ['Sender', 'Protocol', 'SMTP AUTH now -> after', 'SMTP AUTH', 'Allowlisted', 'Messages', 'Last seen', 'Mailbox', 'Seen by', 'First seen', 'TLS', 'Client IPs'];

function importance(columns: readonly string[]): number[] {
  const rank = (c: string, i: number) => {
    const known = COLUMN_IMPORTANCE.indexOf(c);
    return known >= 0 ? known : COLUMN_IMPORTANCE.length + i;
  };
  return columns.map((c, i) => ({ i, r: rank(c, i) })).sort((a, b) => a.r - b.r).map((x) => x.i);
}

const TABLE_INDENT = '    ';
const GAP = '  ';

/**
 * Columns padded to their widest cell; long tables show their first rows and a count. Wider than
 * `width`: the least important columns are dropped (named under the table, `--wide` shows them),
 * down to two; if those still do not fit, the widest column wraps at spaces (never inside a word).
 */
export function tableLines(t: ReportTable, max: number, width = Infinity): string[] {
  const cells = [t.columns, ...t.rows.slice(0, max).map((row) => row.map((v) => clean(v === null ? '-' : String(v))))];
  const natural = t.columns.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const span = (kept: readonly number[], widths: readonly number[]) => TABLE_INDENT.length + kept.reduce((sum, i) => sum + widths[i]!, 0) + GAP.length * (kept.length - 1);
  const order = importance(t.columns);
  const kept = [...order];
  const dropped: number[] = [];
  while (span(kept, natural) > width && kept.length > 2) dropped.unshift(kept.pop()!);
  kept.sort((a, b) => a - b);
  const widths = [...natural];
  // Still too wide: the widest kept column gives up space, wrapping its cells (at least 12 characters).
  const over = span(kept, widths) - width;
  if (over > 0) {
    const widest = kept.reduce((a, b) => (widths[b]! > widths[a]! ? b : a));
    widths[widest] = Math.max(12, widths[widest]! - over, t.columns[widest]!.length);
  }
  const lines = [`  ${t.title}:`];
  for (const row of cells) {
    const wrapped = kept.map((i) => {
      const text = row[i] ?? '';
      return text.length <= widths[i]! ? [text] : wrapText(text, widths[i]!, '', '');
    });
    const height = Math.max(...wrapped.map((w) => w.length));
    for (let h = 0; h < height; h += 1) lines.push(`${TABLE_INDENT}${wrapped.map((w, k) => (w[h] ?? '').padEnd(Math.max(widths[kept[k]!]!, (w[h] ?? '').length))).join(GAP).trimEnd()}`);
  }
  if (t.rows.length > max) lines.push(`${TABLE_INDENT}... and ${t.rows.length - max} more (--format json lists all)`);
  if (dropped.length) lines.push(...wrapText(`(not shown at this width: ${dropped.sort((a, b) => a - b).map((i) => t.columns[i]).join(', ')}; --wide shows every column)`, width, TABLE_INDENT, TABLE_INDENT));
  return lines;
}

export function renderPlanText(plan: PlanDocument, options: TextOptions): string {
  const paint = painter(options.color);
  const max = options.maxListed ?? DEFAULT_MAX;
  const lines = header(plan.kind === 'rollback' ? `Rollback plan: ${plan.playbook.name}` : `Plan: ${plan.playbook.name}`, plan.playbook, plan.tenant, paint);
  lines.push(`Observed: ${plan.createdAt} (fingerprint ${plan.fingerprint.replace(/^sha256:/, '').slice(0, 12)})`);
  const width = options.width ?? Infinity;
  for (const step of plan.steps) lines.push(...stepLines(step, max, paint, width));
  if (plan.risks.length) {
    lines.push('', paint(1, 'Risks'));
    lines.push(...riskLines(plan.risks, max, paint, adviceBySender(plan.steps), '  ', width));
  }
  const { changes, inDesiredState, blockingRisks } = plan.summary;
  lines.push('', `Summary: ${changes} change${changes === 1 ? '' : 's'}, ${inDesiredState} already as desired, ${blockingRisks} blocking risk${blockingRisks === 1 ? '' : 's'}`);
  return `${lines.join('\n')}\n`;
}

const STATUS: Record<Finding['status'], [number, string]> = { pass: [32, 'PASS'], fail: [31, 'FAIL'], warn: [33, 'WARN'] };

function findingLines(findings: readonly Finding[], max: number, paint: Paint, width: number): string[] {
  const lines: string[] = [];
  const steps = [...new Set(findings.map((f) => f.stepId))];
  for (const stepId of steps) {
    const own = findings.filter((f) => f.stepId === stepId);
    const grouped = new AdviceGroups();
    const line = (f: Finding) => `${paint(...STATUS[f.status])} ${f.check} ${clean(f.subject)}: ${clean(grouped.take(f.subject, f.message, dossierAdvice(f)))}`;
    lines.push('', paint(1, `Step ${stepId}`));
    // Failures and warnings are what the reader came for: never cut them; passes may be summarised.
    for (const f of own.filter((x) => x.status !== 'pass')) lines.push(`  ${line(f)}`);
    lines.push(...limited(own.filter((x) => x.status === 'pass'), max, line, '  '));
    lines.push(...grouped.lines('  ', width));
  }
  return lines;
}

function dossierAdvice(f: Finding): readonly string[] | undefined {
  const advice = (f.data?.dossier as { advice?: unknown } | undefined)?.advice;
  return Array.isArray(advice) && advice.every((a) => typeof a === 'string') ? (advice as string[]) : undefined;
}

export function renderVerifyText(report: VerifyReport, options: TextOptions): string {
  const paint = painter(options.color);
  const lines = header(`Verify: ${report.playbook.name}`, report.playbook, report.tenant, paint);
  lines.push(`Checked:  ${report.checkedAt}`);
  if (report.only) lines.push(`Only:     step${report.only.length === 1 ? '' : 's'} ${report.only.join(', ')} (--only: the other steps were not checked)`);
  lines.push(...findingLines(report.findings, options.maxListed ?? DEFAULT_MAX, paint, options.width ?? Infinity));
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
  // Blocking risks are always listed in full; only the others are shortened.
  const shortened = (risks: readonly Risk[]) => long(risks.filter((r) => !(r.blocking && !r.accepted)).length);
  return shortened(plan.risks) || plan.steps.some((s) => long(s.changes.length) || long(s.inDesiredState.length) || shortened(s.risks) || (s.tables ?? []).some((t) => long(t.rows.length)));
}
