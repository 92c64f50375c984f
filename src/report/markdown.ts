/**
 * Markdown a reviewer can paste into a pull request or change ticket: plan, verify, apply and diff.
 * Every value from the playbook or the tenant is escaped, because a mailbox name with `|` or a
 * newline must not break the table, and one with `<script>` must not become HTML. Lists longer than
 * LONG_LIST collapse into <details> so a 500-mailbox plan still reads well.
 *
 * A pull-request comment holds at most 65,536 characters, so what is rendered for one stays within a
 * budget (PR_MARKDOWN_BUDGET) whatever the tenant size: every list shows its first rows and says how
 * many more the full report has; if that is still too long the row limit halves until it fits, and as a
 * last resort the text is cut at a line with a note. summary.md in a run directory is a file, not a
 * comment: it is rendered in full (FULL_MARKDOWN).
 */
import type { Change, Finding, Risk, StepPlan } from '../actions/types.js';
import type { ApplyReport, ChangeResult, PlanDocument, PlaybookRef, TenantRef, VerifyReport } from '../engine/types.js';
import type { DiffReport, PlaybookChange, PlaybookDiff } from '../diff/types.js';
import { controlLabel } from './controls.js';
import { countText } from '../actions/smtp-auth/usage/usage-table.js';

/** Lists with more items than this are collapsed. */
export const LONG_LIST = 10;

/** Under GitHub's 65,536-character comment limit, with room for a heading and another section. */
export const PR_MARKDOWN_BUDGET = 60_000;

export interface MarkdownOptions {
  /** Rows shown per list before "... and N more"; halved until the text fits the budget. */
  maxRows: number;
  /** Characters the whole text may have. */
  budget: number;
  /** Where the rows left out can be read. */
  fullReport: string;
}

const DEFAULT_OPTIONS: MarkdownOptions = {
  maxRows: 100,
  budget: PR_MARKDOWN_BUDGET,
  fullReport: 'the full report (`--format json` or `--format html`; in CI, the uploaded report artifact)',
};

/** summary.md: a file, so nothing is left out. */
export const FULL_MARKDOWN: Partial<MarkdownOptions> = { maxRows: Number.POSITIVE_INFINITY, budget: Number.POSITIVE_INFINITY };

/** The first `max` items and a line for the rest. */
function firstRows<T>(items: readonly T[], o: MarkdownOptions): { shown: readonly T[]; more: string } {
  if (items.length <= o.maxRows) return { shown: items, more: '' };
  const left = items.length - o.maxRows;
  return { shown: items.slice(0, o.maxRows), more: `\n\n_… and ${left} more not shown here: see ${o.fullReport}._` };
}

/** Renders with the row limit, halving it until the text fits the budget; cuts at a line as a last resort. */
function fitted(render: (o: MarkdownOptions) => string, options: Partial<MarkdownOptions>): string {
  const o: MarkdownOptions = { ...DEFAULT_OPTIONS, ...options };
  for (;;) {
    const text = render(o);
    if (text.length <= o.budget) return text;
    if (o.maxRows === 0) return cut(text, o);
    o.maxRows = Math.floor(o.maxRows / 2);
  }
}

function cut(text: string, o: MarkdownOptions): string {
  const note = `\n\n**Cut at ${o.budget} characters**: see ${o.fullReport}.\n`;
  let kept = text.slice(0, Math.max(0, o.budget - note.length - 40));
  kept = kept.slice(0, kept.lastIndexOf('\n') + 1);
  // Close what the cut left open, so the rest of a comment still renders.
  const open = (kept.match(/<details>/g) ?? []).length - (kept.match(/<\/details>/g) ?? []).length;
  return `${kept}${'\n</details>'.repeat(Math.max(0, open))}${note}`;
}

/**
 * Escape text for a table cell or a bullet: the characters that can change meaning there (emphasis,
 * code, links, strikethrough, cell breaks, HTML). Parentheses, `#`, `+` and `!` stay as they are: with
 * `[` escaped they cannot form a link or image, and mid-line they start nothing.
 */
export function escapeMarkdown(value: string): string {
  return value
    .replace(/[\\`*_[\]<>|~&]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : `\\${c}`))
    .replace(/\r\n|\r|\n/g, '<br>');
}

/** A value as PowerShell shows it: $true, $false, $null, text, or a comma list. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '$null';
  if (typeof value === 'boolean') return value ? '$true' : '$false';
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.map(formatValue).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function cell(value: unknown): string {
  return escapeMarkdown(typeof value === 'string' ? value : formatValue(value));
}

export function table(headers: string[], rows: unknown[][]): string {
  const head = `| ${headers.map(escapeMarkdown).join(' | ')} |`;
  const rule = `| ${headers.map(() => '---').join(' | ')} |`;
  return [head, rule, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

/** Wrap a block in <details> when it describes more than LONG_LIST items. */
export function collapsible(summary: string, count: number, body: string): string {
  if (count <= LONG_LIST) return body;
  return `<details><summary>${escapeMarkdown(summary)}</summary>\n\n${body}\n\n</details>`;
}

function bullets(items: string[]): string {
  // A list item's text starting with `#`, `>`, `+`, `-` or `1.` would open a heading, quote or list.
  return items.map((i) => `- ${escapeMarkdown(i).replace(/^(#|>|\+|-|\d+[.)])/, '\\$1')}`).join('\n');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function header(title: string, playbook: PlaybookRef, tenant: TenantRef, at: string, extra: [string, string][] = []): string {
  const rows: [string, string][] = [
    ['Change', playbook.change ?? '(none)'],
    ['Tenant', `${tenant.organization} (${tenant.target})`],
    ['Playbook', `${playbook.name} — ${playbook.file}`],
    ['Playbook hash', playbook.hash.slice(0, 16)],
    ['At', at],
    ...extra,
  ];
  return `## ${escapeMarkdown(title)}\n\n${table(['', ''], rows)}`;
}

function risksBlock(risks: Risk[], o: MarkdownOptions): string {
  if (risks.length === 0) return '';
  // Blocking risks first: they are why apply would refuse.
  const ordered = [...risks].sort((a, b) => Number(b.blocking && !b.accepted) - Number(a.blocking && !a.accepted));
  const { shown, more } = firstRows(ordered, o);
  const rows = shown.map((r) => [
    r.blocking && !r.accepted ? '⛔ blocking' : r.accepted ? 'accepted' : r.kind,
    r.subject,
    r.messages === undefined ? '' : countText(r.messages),
    r.message,
  ]);
  return collapsible(`${plural(risks.length, 'risk')}`, risks.length, table(['Risk', 'Subject', 'Messages', 'Detail'], rows) + more);
}

function changesBlock(changes: Change[], o: MarkdownOptions): string {
  const { shown, more } = firstRows(changes, o);
  const rows = shown.map((c) => [c.target, c.property, c.before, c.after, c.reason]);
  return collapsible(`${plural(changes.length, 'change')}`, changes.length, table(['Target', 'Property', 'Before', 'After', 'Reason'], rows) + more);
}

function bulletsLimited(items: string[], o: MarkdownOptions): string {
  const { shown, more } = firstRows(items, o);
  return bullets([...shown]) + more;
}

function stepBlock(step: StepPlan, o: MarkdownOptions): string {
  const parts = [`### Step \`${step.stepId.replace(/`/g, '')}\` (${escapeMarkdown(step.uses)})`];
  if (step.changes.length > 0) parts.push(changesBlock(step.changes, o));
  else parts.push('No changes.');
  if (step.inDesiredState.length > 0) {
    const n = step.inDesiredState.length;
    parts.push(
      n > LONG_LIST
        ? collapsible(`${plural(n, 'item')} already in the desired state`, n, bulletsLimited(step.inDesiredState, o))
        : `Already in the desired state:\n\n${bullets(step.inDesiredState)}`,
    );
  }
  if (step.notes.length > 0) {
    const n = step.notes.length;
    parts.push(n > LONG_LIST ? collapsible(plural(n, 'note'), n, bulletsLimited(step.notes, o)) : `Notes:\n\n${bullets(step.notes)}`);
  }
  for (const t of step.tables ?? []) {
    const { shown, more } = firstRows(t.rows, o);
    const body = table(t.columns, shown.map((row) => row.map((v) => (v === null ? '-' : v)))) + more;
    parts.push(`${escapeMarkdown(t.title)}:\n\n${collapsible(`${t.title} (${plural(t.rows.length, 'row')})`, t.rows.length, body)}`);
  }
  const risks = risksBlock(step.risks, o);
  if (risks) parts.push(risks);
  return parts.join('\n\n');
}

export function renderPlanMarkdown(plan: PlanDocument, options: Partial<MarkdownOptions> = {}): string {
  return fitted((o) => planMarkdown(plan, o), options);
}

function planMarkdown(plan: PlanDocument, o: MarkdownOptions): string {
  const title = plan.kind === 'rollback' ? `Rollback plan: ${plan.playbook.name}` : `Plan: ${plan.playbook.name}`;
  const { changes, inDesiredState, blockingRisks } = plan.summary;
  const parts = [
    header(title, plan.playbook, plan.tenant, plan.createdAt, [['Fingerprint', plan.fingerprint.slice(0, 16)]]),
    `**${plural(changes, 'change')}**, ${inDesiredState} already in the desired state, ${plural(blockingRisks, 'blocking risk')}.`,
  ];
  if (plan.risks.length > 0) parts.push(`### Plan-wide risks\n\n${risksBlock(plan.risks, o)}`);
  for (const step of plan.steps) parts.push(stepBlock(step, o));
  return parts.join('\n\n') + '\n';
}

const STATUS_MARK: Record<Finding['status'], string> = { pass: '✅ pass', fail: '❌ fail', warn: '⚠️ warn' };

function findingsBlock(findings: Finding[], o: MarkdownOptions): string {
  if (findings.length === 0) return 'No findings.';
  // Failures first: they are what the reviewer came for.
  const order = { fail: 0, warn: 1, pass: 2 } as const;
  const sorted = [...findings].sort((a, b) => order[a.status] - order[b.status]);
  const { shown, more } = firstRows(sorted, o);
  const rows = shown.map((f) => [STATUS_MARK[f.status], f.stepId, f.check, controlLabel(f), f.subject, f.message]);
  return collapsible(`${plural(findings.length, 'finding')}`, findings.length, table(['Status', 'Step', 'Check', 'Control', 'Subject', 'Detail'], rows) + more);
}

export function renderVerifyMarkdown(report: VerifyReport, options: Partial<MarkdownOptions> = {}): string {
  return fitted((o) => verifyMarkdown(report, o), options);
}

function verifyMarkdown(report: VerifyReport, o: MarkdownOptions): string {
  const { pass, fail, warn } = report.summary;
  return (
    [
      header(`Verify: ${report.playbook.name}`, report.playbook, report.tenant, report.checkedAt),
      `**${report.compliant ? 'Compliant' : 'Drift found'}**: ${pass} pass, ${fail} fail, ${warn} warn.`,
      findingsBlock(report.findings, o),
    ].join('\n\n') + '\n'
  );
}

function resultsBlock(results: ChangeResult[], o: MarkdownOptions): string {
  // Failures first: they are what the reader must act on.
  const order = { failed: 0, skipped: 1, applied: 2 } as const;
  const { shown, more } = firstRows([...results].sort((a, b) => order[a.status] - order[b.status]), o);
  const rows = shown.map((r) => [r.status, r.target, r.property, r.before, r.after, r.attempts, r.error ?? '']);
  return collapsible(
    `${plural(results.length, 'result')}`,
    results.length,
    table(['Status', 'Target', 'Property', 'Before', 'After', 'Attempts', 'Error'], rows) + more,
  );
}

export function renderApplyMarkdown(report: ApplyReport, options: Partial<MarkdownOptions> = {}): string {
  return fitted((o) => applyMarkdown(report, o), options);
}

function applyMarkdown(report: ApplyReport, o: MarkdownOptions): string {
  const { applied, failed, skipped } = report.summary;
  const plan = report.plan;
  const parts = [
    header(`Apply: ${plan.playbook.name}`, plan.playbook, plan.tenant, plan.createdAt, [['Run directory', report.runDir]]),
    `**${applied} applied, ${failed} failed, ${skipped} skipped**${report.interrupted ? ' (interrupted)' : ''}.`,
  ];
  if (report.interrupted) {
    parts.push(
      plan.kind === 'rollback'
        ? 'Interrupted: run the same rollback again to finish.'
        : `Interrupted: run apply again to finish, or \`exo-playbook rollback ${report.runDir}\` to undo.`,
    );
  }
  if (report.results.length > 0) parts.push(resultsBlock(report.results, o));
  if (report.verify) {
    const v = report.verify;
    parts.push(`### Verify after apply\n\n**${v.compliant ? 'Compliant' : 'Drift found'}**: ${v.summary.pass} pass, ${v.summary.fail} fail, ${v.summary.warn} warn.`);
    parts.push(findingsBlock(v.findings, o));
  }
  return parts.join('\n\n') + '\n';
}

function diffChangeRows(changes: PlaybookChange[], o: MarkdownOptions): unknown[][] {
  return changes.map((c) => [
    c.sensitive ? '⚠️ sensitive' : '',
    c.kind,
    c.path,
    c.addresses ? addressList(c.addresses, o) : c.before === undefined ? '' : formatValue(c.before),
    c.addresses ? (c.source ?? '') : c.after === undefined ? '' : formatValue(c.after),
    c.message,
  ]);
}

function addressList(addresses: string[], o: MarkdownOptions): string {
  if (addresses.length <= o.maxRows) return addresses.join('\n');
  return [...addresses.slice(0, o.maxRows), `… and ${addresses.length - o.maxRows} more`].join('\n');
}

function diffBlock(diff: PlaybookDiff, o: MarkdownOptions): string {
  const side = (v: PlaybookDiff['old']) => (v ? `${v.file} @ ${v.label}` : '(absent)');
  const title = diff.new?.name ?? diff.old?.name ?? diff.new?.file ?? diff.old?.file ?? 'playbook';
  const parts = [`### ${escapeMarkdown(title)}`, `${escapeMarkdown(side(diff.old))} → ${escapeMarkdown(side(diff.new))}`];
  const change = diff.new?.change ?? diff.old?.change;
  if (change) parts.push(`Change: ${escapeMarkdown(change)}`);
  if (diff.changes.length === 0) {
    parts.push('No meaningful changes.');
    return parts.join('\n\n');
  }
  const sensitive = diff.changes.filter((c) => c.sensitive).length;
  if (sensitive > 0) parts.push(`**⚠️ ${plural(sensitive, 'sensitive change')}** (tenant, sign-in or acceptBreakage).`);
  // Each allowlist change lists its addresses, so count addresses, not changes, for collapsing.
  const items = diff.changes.reduce((n, c) => n + (c.addresses?.length ?? 1), 0);
  // Sensitive changes first: a reviewer must see them even when rows are left out.
  const ordered = [...diff.changes].sort((a, b) => Number(b.sensitive) - Number(a.sensitive));
  const { shown, more } = firstRows(ordered, o);
  parts.push(collapsible(`${plural(diff.changes.length, 'change')}`, items, table(['', 'Kind', 'Path', 'Before / addresses', 'After / file', 'Detail'], diffChangeRows([...shown], o)) + more));
  return parts.join('\n\n');
}

export function renderDiffMarkdown(report: DiffReport, options: Partial<MarkdownOptions> = {}): string {
  return fitted((o) => diffMarkdown(report, o), options);
}

function diffMarkdown(report: DiffReport, o: MarkdownOptions): string {
  const total = report.diffs.reduce((n, d) => n + d.changes.length, 0);
  const head = `## Playbook diff\n\n**${report.changed ? `${plural(total, 'change')} in ${plural(report.diffs.filter((d) => d.changes.length > 0).length, 'playbook')}` : 'No meaningful changes'}**${report.sensitive ? ' — includes sensitive changes' : ''}.`;
  return [head, ...report.diffs.map((d) => diffBlock(d, o))].join('\n\n') + '\n';
}
