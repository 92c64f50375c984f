/**
 * `--format html`: one self-contained file an admin opens in a browser or prints, like the reports
 * Maester or ScubaGear leave behind. No script, no font, no image or style sheet from anywhere: the
 * styles are inline and the chart is inline SVG, so the file works offline, in a mail attachment and
 * under a strict Content-Security-Policy (the page declares one that forbids every fetch).
 * Every value from the playbook or the tenant is escaped. Long lists show their first MAX_ROWS rows;
 * `--format json` holds them all.
 */
import type { Change, Finding, ReportTable, Risk, StepPlan } from '../actions/types.js';
import type { ApplyReport, PlanDocument, PlaybookRef, TenantRef, VerifyReport } from '../engine/types.js';
import { dossierTable, type SenderDossier } from '../actions/smtp-auth/usage/dossier.js';
import { countText } from '../actions/smtp-auth/usage/usage-table.js';

const MAX_ROWS = 1000;
const CHART_SENDERS = 20;

export function escapeHtml(value: unknown): string {
  const text = value === null || value === undefined ? '$null' : typeof value === 'boolean' ? (value ? '$true' : '$false') : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '\ufffd')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;')
  );
}

const STYLE = `
:root { color-scheme: light; --ok: #1a7f37; --fail: #cf222e; --warn: #9a6700; --basic: #d1242f; --oauth: #0969da; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1f2328; background: #fff; margin: 0 auto; max-width: 1200px; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 12px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; } h3 { font-size: 15px; margin: 18px 0 6px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; } th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f6f8fa; } table.meta { width: auto; } table.meta th { width: 10em; }
.summary { font-size: 16px; padding: 10px 14px; border-radius: 6px; background: #f6f8fa; border-left: 6px solid var(--line); }
.summary.ok { border-color: var(--ok); } .summary.fail { border-color: var(--fail); } .summary.warn { border-color: var(--warn); }
.pass { color: var(--ok); font-weight: 600; } .fail { color: var(--fail); font-weight: 600; } .warn { color: var(--warn); font-weight: 600; }
td.pass, td.fail, td.warn { white-space: nowrap; }
.more { color: #59636e; font-style: italic; } code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
figure { margin: 8px 0 16px; } figcaption { color: #59636e; font-size: 12px; } svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: #1f2328; }
footer { margin-top: 32px; color: #59636e; font-size: 12px; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  h2 { break-after: avoid; } tr, figure { break-inside: avoid; } thead { display: table-header-group; }
  .summary { border: 1px solid #000; }
}
`;

function page(title: string, body: string[]): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body.join('\n')}
<footer>exo-playbook report. Full data: <code>--format json</code>.</footer>
</body>
</html>
`;
}

function header(title: string, playbook: PlaybookRef, tenant: TenantRef, at: string): string {
  const rows: [string, string][] = [
    ['Change', playbook.change ?? '(none)'],
    ['Tenant', `${tenant.organization} (${tenant.target})`],
    ['Playbook', `${playbook.name} (${playbook.file})`],
    ['Playbook hash', playbook.hash.replace(/^sha256:/, '').slice(0, 16)],
    ['At', at],
  ];
  return `<h1>${escapeHtml(title)}</h1>\n<table class="meta">${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`;
}

function table(columns: string[], rows: unknown[][], cellClass?: (row: unknown[], index: number) => string | undefined): string {
  const shown = rows.slice(0, MAX_ROWS);
  const body = shown
    .map((row) => `<tr>${row.map((v, i) => { const c = cellClass?.(row, i); return `<td${c ? ` class="${c}"` : ''}>${escapeHtml(v)}</td>`; }).join('')}</tr>`)
    .join('\n');
  const more = rows.length > MAX_ROWS ? `<p class="more">… and ${rows.length - MAX_ROWS} more rows (--format json lists all).</p>` : '';
  return `<table><thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>\n${body}\n</tbody></table>${more}`;
}

/** Senders by messages, coloured by protocol, and the share of messages by protocol: inline SVG. */
export function usageChart(t: ReportTable): string {
  const col = (name: string) => t.columns.findIndex((c) => c.toLowerCase() === name);
  const [sender, protocol, messages] = [col('sender'), col('protocol'), col('messages')];
  if (sender < 0 || protocol < 0 || messages < 0 || t.rows.length === 0) return '';
  // A sender no source counted ("unknown") has no bar: drawing it as 0 would state a count nobody gave.
  const counted = t.rows.filter((r) => typeof r[messages] === 'number');
  const uncounted = t.rows.length - counted.length;
  const rows = counted
    .map((r) => ({ sender: String(r[sender] ?? ''), protocol: String(r[protocol] ?? ''), messages: Number(r[messages]) || 0 }))
    .sort((a, b) => b.messages - a.messages);
  if (rows.length === 0) return '';
  const byProtocol = new Map<string, number>();
  for (const r of rows) byProtocol.set(r.protocol, (byProtocol.get(r.protocol) ?? 0) + r.messages);
  const total = [...byProtocol.values()].reduce((a, b) => a + b, 0) || 1;
  const colour = (p: string) => (/basic/i.test(p) ? 'var(--basic)' : /oauth/i.test(p) ? 'var(--oauth)' : '#8c959f');
  const top = rows.slice(0, CHART_SENDERS);
  const max = top[0]?.messages || 1;
  const labelW = 260;
  const barW = 560;
  const rowH = 20;
  const width = labelW + barW + 80;
  // The share bar, then one bar per sender.
  let y = 8;
  const parts: string[] = [];
  let x = labelW;
  parts.push(`<text x="0" y="${y + 13}">All ${rows.length} senders</text>`);
  for (const [p, n] of [...byProtocol.entries()].sort()) {
    const w = Math.max(1, Math.round((n / total) * barW));
    parts.push(`<rect x="${x}" y="${y}" width="${w}" height="16" fill="${colour(p)}"><title>${escapeHtml(`${p}: ${n} messages (${Math.round((n / total) * 100)}%)`)}</title></rect>`);
    x += w;
  }
  y += 26;
  for (const r of top) {
    const w = Math.max(1, Math.round((r.messages / max) * barW));
    const label = r.sender.length > 38 ? `${r.sender.slice(0, 36)}…` : r.sender;
    parts.push(`<text x="0" y="${y + 13}">${escapeHtml(label)}</text>`);
    parts.push(`<rect class="sender" x="${labelW}" y="${y}" width="${w}" height="14" fill="${colour(r.protocol)}"><title>${escapeHtml(`${r.sender}: ${r.messages} messages (${r.protocol})`)}</title></rect>`);
    parts.push(`<text x="${labelW + w + 6}" y="${y + 12}">${r.messages}</text>`);
    y += rowH;
  }
  const legendY = y + 8;
  let lx = labelW;
  for (const p of [...byProtocol.keys()].sort()) {
    parts.push(`<rect x="${lx}" y="${legendY}" width="12" height="12" fill="${colour(p)}"/><text x="${lx + 16}" y="${legendY + 11}">${escapeHtml(p)}</text>`);
    lx += 90;
  }
  const height = legendY + 24;
  const caption = `SMTP AUTH senders by protocol and messages: ${[...byProtocol.entries()].sort().map(([p, n]) => `${p} ${n}`).join(', ')} message(s)${rows.length > CHART_SENDERS ? `; the ${CHART_SENDERS} busiest of ${rows.length} senders shown` : ''}${uncounted ? `; ${uncounted} sender(s) with an unknown message count not drawn` : ''}.`;
  return `<figure><svg role="img" aria-label="${escapeHtml(caption)}" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg><figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

function riskRows(risks: Risk[]): unknown[][] {
  return risks.map((r) => [r.blocking && !r.accepted ? 'BLOCKING' : r.accepted ? 'accepted' : r.kind, r.subject, r.messages === undefined ? '' : countText(r.messages), r.message]);
}

function stepSection(step: StepPlan): string {
  const parts = [`<h2>Step ${escapeHtml(step.stepId)} <small>(${escapeHtml(step.uses)})</small>: ${step.changes.length} change${step.changes.length === 1 ? '' : 's'}</h2>`];
  if (step.changes.length) parts.push(table(['Target', 'Property', 'Before', 'After', 'Reason'], step.changes.map((c: Change) => [c.target, c.property, c.before, c.after, c.reason])));
  for (const t of step.tables ?? []) {
    parts.push(`<h3>${escapeHtml(t.title)}</h3>`, usageChart(t), table(t.columns, t.rows.map((r) => r.map((v) => (v === null ? '-' : v)))));
  }
  if (step.risks.length) parts.push('<h3>Risks</h3>', table(['Risk', 'Subject', 'Messages', 'Detail'], riskRows(step.risks), (row, i) => (i === 0 && row[0] === 'BLOCKING' ? 'fail' : undefined)));
  if (step.inDesiredState.length) parts.push('<h3>Already as desired</h3>', table(['Item'], step.inDesiredState.map((s) => [s])));
  if (step.notes.length) parts.push('<h3>Notes</h3>', table(['Note'], step.notes.map((s) => [s])));
  return parts.join('\n');
}

function planBody(plan: PlanDocument): string[] {
  const { changes, inDesiredState, blockingRisks } = plan.summary;
  const tone = blockingRisks > 0 ? 'fail' : changes > 0 ? 'warn' : 'ok';
  const body = [
    header(plan.kind === 'rollback' ? `Rollback plan: ${plan.playbook.name}` : `Plan: ${plan.playbook.name}`, plan.playbook, plan.tenant, plan.createdAt),
    `<p class="summary ${tone}"><strong>${changes} change${changes === 1 ? '' : 's'}</strong>, ${inDesiredState} already as desired, <strong>${blockingRisks} blocking risk${blockingRisks === 1 ? '' : 's'}</strong>.</p>`,
  ];
  if (plan.risks.length) body.push('<h2>Plan-wide risks</h2>', table(['Risk', 'Subject', 'Messages', 'Detail'], riskRows(plan.risks), (row, i) => (i === 0 && row[0] === 'BLOCKING' ? 'fail' : undefined)));
  for (const step of plan.steps) body.push(stepSection(step));
  return body;
}

function findingsTable(findings: Finding[]): string {
  const order = { fail: 0, warn: 1, pass: 2 } as const;
  const sorted = [...findings].sort((a, b) => order[a.status] - order[b.status]);
  return table(['Status', 'Step', 'Check', 'Subject', 'Detail'], sorted.map((f) => [f.status.toUpperCase(), f.stepId, f.check, f.subject, f.message]), (row, i) => (i === 0 ? String(row[0]).toLowerCase() : undefined));
}

/** The usage step's per-sender dossiers, carried by its verify findings (one per sender). */
function dossiersOf(findings: readonly Finding[]): SenderDossier[] {
  const bySender = new Map<string, SenderDossier>();
  for (const f of findings) {
    const dossier = (f.data as { dossier?: SenderDossier } | undefined)?.dossier;
    if (dossier && typeof dossier.sender === 'string' && !bySender.has(dossier.sender)) bySender.set(dossier.sender, dossier);
  }
  return [...bySender.values()];
}

function verifyBody(report: VerifyReport, title = `Verify: ${report.playbook.name}`): string[] {
  const { pass, fail, warn } = report.summary;
  const body = [
    header(title, report.playbook, report.tenant, report.checkedAt),
    `<p class="summary ${report.compliant ? (warn ? 'warn' : 'ok') : 'fail'}"><strong>${report.compliant ? 'COMPLIANT' : 'DRIFT'}</strong>: ${pass} pass, ${fail} fail, ${warn} warn.</p>`,
    '<h2>Findings</h2>',
    findingsTable(report.findings),
  ];
  const dossiers = dossiersOf(report.findings);
  if (dossiers.length > 0) {
    const t = dossierTable(dossiers, false);
    body.push(`<h2>${escapeHtml(t.title)}</h2>`, usageChart(t), table(t.columns, t.rows.map((r) => r.map((v) => (v === null ? '-' : v)))));
  }
  return body;
}

export function renderPlanHtml(plan: PlanDocument): string {
  return page(`Plan: ${plan.playbook.name} (${plan.tenant.organization})`, planBody(plan));
}

export function renderVerifyHtml(report: VerifyReport): string {
  return page(`Verify: ${report.playbook.name} (${report.tenant.organization})`, verifyBody(report));
}

export function renderApplyHtml(report: ApplyReport): string {
  const { applied, failed, skipped } = report.summary;
  const body = [
    ...planBody(report.plan),
    `<h2>Result</h2><p class="summary ${failed ? 'fail' : 'ok'}"><strong>${applied} applied, ${failed} failed, ${skipped} skipped</strong>${report.interrupted ? ' (interrupted)' : ''}. Run directory: <code>${escapeHtml(report.runDir)}</code></p>`,
    table(['Status', 'Target', 'Property', 'Before', 'After', 'Attempts', 'Error'], report.results.map((r) => [r.status, r.target, r.property, r.before, r.after, r.attempts, r.error ?? '']), (row, i) => (i === 0 && row[0] === 'failed' ? 'fail' : undefined)),
  ];
  if (report.verify) body.push(...verifyBody(report.verify, 'Verify after apply').map((s) => s.replace(/^<h1>/, '<h2>').replace(/<\/h1>/, '</h2>')));
  return page(`Apply: ${report.plan.playbook.name} (${report.plan.tenant.organization})`, body);
}
