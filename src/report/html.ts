/**
 * `--format html`: one self-contained file an admin opens in a browser, prints or attaches to a mail,
 * read at a glance like the reports Maester or ScubaGear leave behind: a status line whose colour
 * means what it says (green: compliant or nothing to do, even with warnings, which are counted next to
 * it; red: drift, a refusal or a failed write; blue: changes to review), summary tiles, "since the last
 * run", the senders chart coloured by what happens to each sender (keeps SMTP AUTH, loses it,
 * allowlisted), then the detail: findings grouped by check with each shared text and each advice shown
 * once per group, and long tables collapsed (<details>).
 *
 * Nothing is loaded from anywhere: styles are inline, the chart is inline SVG and the one script (sort
 * and filter, src/report/html-script.ts) is inline and allowed by its hash in the page's
 * Content-Security-Policy, which forbids every fetch. Tables never split words: headers and short
 * values stay on one line, addresses break only after @ and dots, long text wraps at spaces, and a
 * table wider than the screen scrolls sideways in its own box (the page itself never does). Every value
 * from the playbook or the tenant is escaped. Long lists show their first MAX_ROWS rows; `--format json`
 * holds them all.
 */
import type { Change, Finding, ReportTable, Risk, StepPlan } from '../actions/types.js';
import type { SenderDossier } from '../actions/smtp-auth/usage/dossier.js';
import { dossierTable } from '../actions/smtp-auth/usage/dossier.js';
import type { ApplyReport, PlanDocument, PlaybookRef, TenantRef, VerifyReport } from '../engine/types.js';
import { controlOf } from './controls.js';
import { REPORT_SCRIPT, REPORT_SCRIPT_HASH } from './html-script.js';
import { countText } from '../actions/smtp-auth/usage/usage-table.js';
import { compareRuns, dossiersOfFindings, dossiersOfPlan, snapshotOfPlan, snapshotOfVerify, type RunSnapshot, type SinceLastRun } from './html-since.js';

const MAX_ROWS = 1000;
const CHART_SENDERS = 20;
/** Values up to this many characters are "short": they never wrap. */
const SHORT = 32;
/** Tables with more rows than this start collapsed. */
const COLLAPSE_ROWS = 15;

export interface HtmlOptions {
  /** A previous run (`--compare`): adds "Since the last run". */
  previous?: RunSnapshot;
}

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

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

const STYLE = `
:root { color-scheme: light; --ok: #1a7f37; --fail: #cf222e; --warn: #9a6700; --info: #0969da; --keeps: #0969da; --loses: #cf222e; --allow: #8250df; --line: #d0d7de; --muted: #59636e; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1f2328; background: #fff; margin: 0 auto; max-width: 1200px; padding: 24px; overflow-wrap: normal; word-break: normal; }
h1 { font-size: 24px; margin: 0 0 12px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; } h3 { font-size: 15px; margin: 18px 0 6px; }
.scroll { overflow-x: auto; max-width: 100%; margin: 6px 0 12px; }
.scroll:focus { outline: 2px solid var(--info); }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; overflow-wrap: normal; word-break: normal; hyphens: manual; }
th { background: #f6f8fa; white-space: nowrap; }
td.short, td.addr span { white-space: nowrap; } td.num { text-align: right; }
td.long .w { display: block; min-width: 16em; }
table.meta { width: auto; } table.meta th { width: 9em; } table.meta td { overflow-wrap: anywhere; }
button.sort { font: inherit; font-weight: 600; color: inherit; background: none; border: 0; padding: 0; cursor: pointer; white-space: nowrap; }
button.sort::after { content: " \\2195"; color: var(--muted); font-weight: 400; }
th[aria-sort="ascending"] button.sort::after { content: " \\2191"; color: inherit; } th[aria-sort="descending"] button.sort::after { content: " \\2193"; color: inherit; }
.summary { font-size: 16px; padding: 10px 14px; border-radius: 6px; background: #f6f8fa; border-left: 6px solid var(--line); }
.summary.ok { border-color: var(--ok); background: #dafbe1; } .summary.fail { border-color: var(--fail); background: #ffebe9; } .summary.info { border-color: var(--info); background: #ddf4ff; }
.badge { display: inline-block; background: #fff; border-radius: 10px; padding: 0 8px; font-size: 12px; font-weight: 600; white-space: nowrap; border: 1px solid currentColor; }
.pass { color: var(--ok); font-weight: 600; } .fail { color: var(--fail); font-weight: 600; } .warn { color: var(--warn); font-weight: 600; }
.summary.ok, .summary.fail, .summary.info { color: #1f2328; font-weight: 400; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(9.5em, 1fr)); gap: 8px; list-style: none; padding: 0; margin: 12px 0; }
.tile { border: 1px solid var(--line); border-top: 4px solid var(--line); border-radius: 6px; padding: 6px 10px; }
.tile .n { display: block; font-size: 24px; font-weight: 700; } .tile .l { color: var(--muted); font-size: 12px; }
.tile.fail { border-top-color: var(--fail); } .tile.fail .n { color: var(--fail); }
.tile.warn { border-top-color: var(--warn); } .tile.warn .n { color: var(--warn); }
.tile.info { border-top-color: var(--info); } .tile.ok { border-top-color: var(--ok); } .tile.ok .n { color: var(--ok); }
.tile.allow { border-top-color: var(--allow); }
details { margin: 6px 0; } details > summary { cursor: pointer; padding: 4px 0; } details > summary h2, details > summary h3 { display: inline; border: 0; }
details.group { border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px; }
details.group > summary code { white-space: nowrap; }
.shared { margin: 6px 0; padding: 6px 10px; background: #f6f8fa; border-radius: 6px; }
.shared ul { margin: 4px 0; padding-left: 1.2em; }
.filterbar { display: none; gap: 8px; align-items: center; flex-wrap: wrap; margin: 6px 0; }
.js .filterbar { display: flex; }
.filterbar input { font: inherit; padding: 3px 6px; border: 1px solid #8c959f; border-radius: 4px; min-width: 0; width: 18em; max-width: 100%; }
.more { color: var(--muted); font-style: italic; } code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
figure { margin: 8px 0 16px; } figure svg { width: 100%; height: auto; min-width: 640px; max-width: 900px; display: block; } figcaption { color: var(--muted); font-size: 12px; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: #1f2328; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media (max-width: 600px) { body { padding: 12px; } h1 { font-size: 20px; } .tile .n { font-size: 20px; } }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  .filterbar, button.sort::after { display: none !important; content: none; }
  .scroll { overflow: visible; }
  details > summary { list-style: none; }
  details::details-content { content-visibility: visible; display: contents; }
  h2 { break-after: avoid; } tr, figure, .tile { break-inside: avoid; } thead { display: table-header-group; }
  .summary, .tile { border: 1px solid #000; }
}
`;

function page(title: string, body: string[]): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src ${REPORT_SCRIPT_HASH}">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body.join('\n')}
</main>
<footer>exo-playbook report. Full data: <code>--format json</code>.</footer>
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;
}

function header(title: string, playbook: PlaybookRef, tenant: TenantRef, at: string, extra: [string, string][] = []): string {
  const rows: [string, string][] = [
    ['Change', playbook.change ?? '(none)'],
    ['Tenant', `${tenant.organization} (${tenant.target})`],
    ['Playbook', `${playbook.name} (${playbook.file})`],
    ['Playbook hash', playbook.hash.replace(/^sha256:/, '').slice(0, 16)],
    ['At', at],
    ...extra,
  ];
  return `<h1>${escapeHtml(title)}</h1>\n<table class="meta">${rows.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`;
}

// ---- cells and tables ----

const ADDRESS = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** An address that may break only after "@" and ".": each piece is kept whole. */
function addressHtml(text: string): string {
  return text
    .split(/(?<=[@.])/)
    .map((piece) => `<span>${escapeHtml(piece)}</span>`)
    .join('<wbr>');
}

/** A PowerShell value as the other reports show it: $null, $true, $false, text. */
function display(value: unknown): string {
  if (value === null || value === undefined) return '$null';
  return typeof value === 'string' ? value : asText(value);
}

/** A non-string value as text (escaped later): $true/$false, JSON for objects, numbers as they are. */
function asText(value: unknown): string {
  if (typeof value === 'boolean') return value ? '$true' : '$false';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function cell(value: unknown, extra?: string): string {
  const text = display(value);
  const classes: string[] = [];
  let inner: string;
  let sort = '';
  if (typeof value === 'number') {
    classes.push('short', 'num');
    sort = ` data-sort="${value}"`;
    inner = escapeHtml(text);
  } else if (ADDRESS.test(text)) {
    // A short address stays on one line; a long one breaks only after "@" and dots.
    classes.push('addr');
    if (text.length <= SHORT) classes.push('short');
    inner = text.length <= SHORT ? escapeHtml(text) : addressHtml(text);
  } else if (text.length <= SHORT) {
    classes.push('short');
    inner = escapeHtml(text);
  } else {
    classes.push('long');
    // A block with a minimum width: long text keeps a readable column and the table scrolls instead.
    inner = `<span class="w">${escapeHtml(text)}</span>`;
  }
  if (extra) classes.push(extra);
  return `<td class="${classes.join(' ')}"${sort}>${inner}</td>`;
}

let tableCounter = 0;

interface TableOptions {
  label: string;
  cellClass?: (row: unknown[], index: number) => string | undefined;
  rowClass?: (row: unknown[], index: number) => string | undefined;
}

/** A sortable table in its own sideways-scrolling box; rows beyond MAX_ROWS are counted, not shown. */
function table(columns: string[], rows: unknown[][], o: TableOptions): string {
  const id = `t${++tableCounter}`;
  const shown = rows.slice(0, MAX_ROWS);
  const body = shown
    .map((row, r) => {
      const rc = o.rowClass?.(row, r);
      return `<tr${rc ? ` class="${rc}"` : ''}>${row.map((v, i) => cell(v, o.cellClass?.(row, i))).join('')}</tr>`;
    })
    .join('\n');
  const more = rows.length > MAX_ROWS ? `<p class="more">… and ${rows.length - MAX_ROWS} more rows (--format json lists all).</p>` : '';
  const head = columns.map((c) => `<th scope="col"><button type="button" class="sort" title="Sort by ${escapeHtml(c)}">${escapeHtml(c)}</button></th>`).join('');
  return `<div class="scroll" role="region" tabindex="0" aria-label="${escapeHtml(o.label)}"><table class="data" id="${id}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>${more}`;
}

/** A filter box for every table inside the element with this id (shown when script runs). */
function filterBar(scopeId: string, label: string, total: number): string {
  return `<div class="filterbar"><label for="${scopeId}-filter">Filter ${escapeHtml(label)}</label><input type="search" class="filter" id="${scopeId}-filter" data-scope="${scopeId}" data-count="${scopeId}-count" autocomplete="off" placeholder="address, check, text…"><span id="${scopeId}-count" class="more" aria-live="polite">${total} rows</span></div>`;
}

/** A collapsible section: open when short or important. */
function section(heading: string, level: 2 | 3, body: string, open: boolean, id?: string): string {
  return `<details class="section"${open ? ' open' : ''}${id ? ` id="${id}"` : ''}><summary><h${level}>${heading}</h${level}></summary>\n${body}\n</details>`;
}

// ---- shared texts and advice, once per group ----

interface Grouped {
  /** Each row's own part. */
  details: string[];
  /** Text every row shared, shown once (e.g. "the organization goes off and…"). */
  shared: string | null;
  /** Closing clauses several rows share (after the last "; "), each once with the subjects it applies to. */
  notes: { text: string; subjects: string[] }[];
  /** Distinct advice, each once, with the subjects it applies to. */
  advice: { text: string; subjects: string[] }[];
}

function bySubject(entries: { text: string; subject: string }[]): { text: string; subjects: string[] }[] {
  const map = new Map<string, string[]>();
  for (const e of entries) map.set(e.text, [...(map.get(e.text) ?? []), e.subject]);
  return [...map.entries()].map(([text, subjects]) => ({ text, subjects }));
}

/** The longest clause-aligned text every detail ends with ("" if none). */
function commonClauseSuffix(details: readonly string[]): string {
  let suffix = details[0] ?? '';
  for (const d of details.slice(1)) {
    let n = 0;
    while (n < suffix.length && n < d.length && suffix[suffix.length - 1 - n] === d[d.length - 1 - n]) n += 1;
    suffix = suffix.slice(suffix.length - n);
  }
  // Start at a clause (after "; ", ": ", ". " or ", "), so each row keeps a sentence of its own.
  const start = suffix.search(/(?<=[;:.,]\s)\S/);
  return start < 0 ? '' : suffix.slice(start);
}

/**
 * Splits "detail; shared clause. Advice: a; b" into the row's own detail, the text all rows share
 * (once), closing clauses several rows share (once each) and advice (once per distinct advice).
 */
export function groupTexts(items: { subject: string; message: string }[]): Grouped {
  const split = items.map((i) => {
    const at = i.message.indexOf('Advice: ');
    return at < 0 ? { detail: i.message, advice: '' } : { detail: i.message.slice(0, at).replace(/[\s.;:,]+$/, ''), advice: i.message.slice(at + 8).replace(/[\s.]+$/, '') };
  });
  let shared: string | null = null;
  let details = split.map((s) => s.detail);
  const notes: { text: string; subject: string }[] = [];
  if (details.length >= 2 && details.every((d) => d === details[0]) && details[0]!.length >= 24) {
    // The same text for every row: said once.
    shared = details[0]!;
    details = details.map(() => '');
  } else if (details.length >= 2) {
    const suffix = commonClauseSuffix(details);
    if (suffix.length >= 24 && details.every((d) => d.length > suffix.length)) {
      shared = suffix;
      details = details.map((d) => d.slice(0, d.length - suffix.length).replace(/[\s;:,]+$/, ''));
    } else {
      // No text common to all: a closing clause ("…; breaks when …") shared by several rows is said once.
      const tails = details.map((d) => {
        const at = d.lastIndexOf('; ');
        return at < 0 ? '' : d.slice(at + 2);
      });
      const counts = new Map<string, number>();
      for (const t of tails) if (t.length >= 24) counts.set(t, (counts.get(t) ?? 0) + 1);
      details = details.map((d, i) => {
        const t = tails[i]!;
        if ((counts.get(t) ?? 0) < 2) return d;
        notes.push({ text: t, subject: items[i]!.subject });
        return d.slice(0, d.length - t.length - 2);
      });
    }
  }
  const advice = split.flatMap((s, i) => (s.advice ? [{ text: s.advice, subject: items[i]!.subject }] : []));
  return { details, shared, notes: bySubject(notes), advice: bySubject(advice) };
}

function whoOf(subjects: readonly string[], total: number): string {
  if (subjects.length === total) return `all ${total}`;
  return subjects.length <= 5 ? subjects.join(', ') : `${subjects.slice(0, 5).join(', ')} and ${subjects.length - 5} more`;
}

function sharedBlock(g: Grouped, total: number): string {
  const parts: string[] = [];
  if (g.shared) parts.push(`<p><strong>All ${total}:</strong> ${escapeHtml(g.shared)}</p>`);
  const items = [
    ...g.notes.map((n) => `<li><strong>${escapeHtml(n.subjects.length === total ? `All ${total}` : `${n.subjects.length} of ${total}`)}</strong>${n.subjects.length === total ? '' : ` (${escapeHtml(whoOf(n.subjects, total))})`}: ${escapeHtml(n.text)}</li>`),
    ...g.advice.map((a) => `<li><strong>Advice</strong> (${escapeHtml(whoOf(a.subjects, total))}): ${escapeHtml(a.text)}</li>`),
  ];
  if (items.length) parts.push(`<ul>${items.join('')}</ul>`);
  return parts.length ? `<div class="shared">${parts.join('')}</div>` : '';
}

// ---- findings, grouped by check ----

const STATUS_ORDER = { fail: 0, warn: 1, pass: 2 } as const;

function referencesText(check: string): string {
  return controlOf(check)
    .references.map((r) => `${r.framework.startsWith('CISA') ? 'CISA' : r.framework.startsWith('CIS ') ? 'CIS' : r.framework} ${r.id}`)
    .join(' · ');
}

function findingsSection(findings: readonly Finding[], heading: string, level: 2 | 3, scopeId: string): string {
  if (findings.length === 0) return `<h${level}>${escapeHtml(heading)}</h${level}>\n<p>No findings.</p>`;
  const groups = new Map<string, Finding[]>();
  for (const f of findings) groups.set(f.check, [...(groups.get(f.check) ?? []), f]);
  const worst = (fs: Finding[]) => Math.min(...fs.map((f) => STATUS_ORDER[f.status]));
  // Worst status first; within it, in control-id order (the organization switch, EXOPB-SMTP-001, leads).
  const ordered = [...groups.entries()].sort((a, b) => worst(a[1]) - worst(b[1]) || controlOf(a[0]).id.localeCompare(controlOf(b[0]).id, 'en', { numeric: true }));
  const blocks = ordered.map(([check, own]) => {
    const sorted = [...own].sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status]);
    const counts = (['fail', 'warn', 'pass'] as const).map((s) => [s, sorted.filter((f) => f.status === s).length] as const).filter(([, n]) => n > 0);
    const control = controlOf(check);
    const refs = referencesText(check);
    const grouped = groupTexts(sorted);
    const summary = `${counts.map(([s, n]) => `<span class="badge ${s}">${s.toUpperCase()} ${n}</span>`).join(' ')} <strong>${escapeHtml(check)}</strong> <code>${escapeHtml(control.id)}</code>${refs ? ` <span class="badge">${escapeHtml(refs)}</span>` : ''} ${escapeHtml(control.title)}`;
    const rows = sorted.map((f, i) => [f.status.toUpperCase(), f.subject, grouped.details[i] || '-', f.stepId, control.id]);
    const body = table(['Status', 'Subject', 'Detail', 'Step', 'Control'], rows, {
      label: `Findings of ${check}`,
      cellClass: (row, i) => (i === 0 ? String(row[0]).toLowerCase() : undefined),
      rowClass: (row) => `finding finding-${String(row[0]).toLowerCase()}`,
    });
    const open = worst(own) === 0 || (worst(own) === 1 && own.length <= 5);
    return `<details class="group" data-check="${escapeHtml(check)}"${open ? ' open' : ''}><summary>${summary}</summary>\n${sharedBlock(grouped, sorted.length)}${body}</details>`;
  });
  return `<section id="${scopeId}" aria-labelledby="${scopeId}-h"><h${level} id="${scopeId}-h">${escapeHtml(heading)}</h${level}>\n${filterBar(scopeId, 'findings', findings.length)}\n${blocks.join('\n')}</section>`;
}

// ---- risks, grouped by kind ----

function riskLabel(r: Risk): string {
  return r.blocking && !r.accepted ? 'BLOCKING' : r.accepted ? 'accepted' : r.kind;
}

function risksSection(risks: readonly Risk[], heading: string, scopeId: string): string {
  if (risks.length === 0) return '';
  const groups = new Map<string, Risk[]>();
  const order = (label: string) => (label === 'BLOCKING' ? 0 : label === 'accepted' ? 2 : 1);
  for (const r of risks) groups.set(riskLabel(r), [...(groups.get(riskLabel(r)) ?? []), r]);
  const blocks = [...groups.entries()]
    .sort((a, b) => order(a[0]) - order(b[0]))
    .map(([label, own]) => {
      const grouped = groupTexts(own);
      const rows = own.map((r, i) => [label, r.subject, r.messages === undefined ? '-' : countText(r.messages), grouped.details[i] || '-']);
      const tone = label === 'BLOCKING' ? 'fail' : label === 'accepted' ? 'pass' : 'warn';
      const body = table(['Risk', 'Subject', 'Messages', 'Detail'], rows, { label: `${label} risks`, cellClass: (_row, i) => (i === 0 ? tone : undefined), rowClass: () => `risk risk-${tone}` });
      return `<details class="group"${label === 'BLOCKING' || own.length <= 5 ? ' open' : ''}><summary><span class="badge ${tone}">${escapeHtml(label)} ${own.length}</span> ${escapeHtml(label === 'BLOCKING' ? 'apply refuses until each is fixed or accepted' : label === 'accepted' ? 'accepted breakage' : `${label} (does not block apply)`)}</summary>\n${sharedBlock(grouped, own.length)}${body}</details>`;
    });
  return `<section id="${scopeId}" aria-labelledby="${scopeId}-h"><h2 id="${scopeId}-h">${escapeHtml(heading)}</h2>\n${filterBar(scopeId, 'risks', risks.length)}\n${blocks.join('\n')}</section>`;
}

// ---- tiles and status ----

type Tone = 'ok' | 'fail' | 'warn' | 'info' | 'allow' | 'plain';

interface Tile {
  label: string;
  value: number | string;
  tone: Tone;
}

function tiles(list: Tile[]): string {
  return `<ul class="tiles" aria-label="Summary">${list.map((t) => `<li class="tile ${t.tone}" data-tile="${escapeHtml(t.label)}"><span class="n">${escapeHtml(t.value)}</span><span class="l">${escapeHtml(t.label)}</span></li>`).join('')}</ul>`;
}

type Outcome = 'keeps' | 'loses' | 'allowlisted';

function outcomeOf(d: SenderDossier): Outcome {
  if (d.allowlisted) return 'allowlisted';
  return (d.smtpAuthAfter ?? d.smtpAuthNow) === 'off' ? 'loses' : 'keeps';
}

function senderTiles(dossiers: readonly SenderDossier[], planned: boolean, loseLabel = planned ? 'will lose SMTP AUTH' : 'senders with SMTP AUTH off'): Tile[] {
  if (dossiers.length === 0) {
    return [
      { label: loseLabel, value: 'no data', tone: 'plain' },
      { label: 'Basic senders', value: 'no data', tone: 'plain' },
      { label: 'allowlisted senders', value: 'no data', tone: 'plain' },
    ];
  }
  const loses = dossiers.filter((d) => outcomeOf(d) === 'loses').length;
  const basic = dossiers.filter((d) => d.protocols.some((p) => /basic/i.test(p))).length;
  const allow = dossiers.filter((d) => d.allowlisted).length;
  return [
    // Planned: they lose it with this change (red). Verify: already off, accepted or unknown to the playbook (amber).
    { label: loseLabel, value: loses, tone: loses ? (planned ? 'fail' : 'warn') : 'ok' },
    { label: 'Basic senders', value: basic, tone: basic ? 'warn' : 'ok' },
    { label: 'allowlisted senders', value: allow, tone: 'allow' },
  ];
}

// ---- the chart: senders by outcome ----

const OUTCOME_COLOUR: Record<Outcome, string> = { keeps: 'var(--keeps)', loses: 'var(--loses)', allowlisted: 'var(--allow)' };

/** Senders by messages, coloured by what happens to each (keeps SMTP AUTH, loses it, allowlisted): inline SVG. */
export function outcomeChart(dossiers: readonly SenderDossier[], planned: boolean): string {
  if (dossiers.length === 0) return '';
  const label: Record<Outcome, string> = planned
    ? { keeps: 'keeps SMTP AUTH', loses: 'loses SMTP AUTH', allowlisted: 'allowlisted' }
    : { keeps: 'SMTP AUTH on', loses: 'SMTP AUTH off', allowlisted: 'allowlisted' };
  const rows = dossiers
    .map((d) => ({ sender: d.sender, outcome: outcomeOf(d), messages: d.messages ?? 0, known: d.messages !== null, basic: d.protocols.some((p) => /basic/i.test(p)) }))
    .sort((a, b) => b.messages - a.messages || a.sender.localeCompare(b.sender));
  const outcomes: Outcome[] = ['loses', 'keeps', 'allowlisted'];
  const count = new Map(outcomes.map((o) => [o, rows.filter((r) => r.outcome === o).length]));
  // A sender no source counted has no bar: drawing it as 0 would state a count nobody gave.
  const counted = rows.filter((r) => r.known);
  const uncounted = rows.length - counted.length;
  const top = counted.slice(0, CHART_SENDERS);
  const max = Math.max(1, ...top.map((r) => r.messages));
  const labelW = 260;
  const barW = 520;
  const rowH = 20;
  const width = labelW + barW + 80;
  const parts: string[] = [];
  let y = 8;
  let x = labelW;
  parts.push(`<text x="0" y="${y + 13}">All ${rows.length} senders</text>`);
  for (const o of outcomes) {
    const n = count.get(o) ?? 0;
    if (n === 0) continue;
    const w = Math.max(1, Math.round((n / rows.length) * barW));
    parts.push(`<rect class="share ${o}" x="${x}" y="${y}" width="${w}" height="16" fill="${OUTCOME_COLOUR[o]}"><title>${escapeHtml(`${label[o]}: ${n} sender(s)`)}</title></rect>`);
    x += w;
  }
  y += 28;
  for (const r of top) {
    const w = Math.max(1, Math.round((r.messages / max) * barW));
    const text = r.sender.length > 38 ? `${r.sender.slice(0, 36)}…` : r.sender;
    parts.push(`<text x="0" y="${y + 12}">${escapeHtml(text)}</text>`);
    parts.push(`<rect class="sender ${r.outcome}" data-outcome="${r.outcome}" x="${labelW}" y="${y}" width="${w}" height="14" fill="${OUTCOME_COLOUR[r.outcome]}"><title>${escapeHtml(`${r.sender}: ${r.known ? r.messages : 'unknown'} messages, ${label[r.outcome]}${r.basic ? ', Basic' : ''}`)}</title></rect>`);
    parts.push(`<text x="${labelW + w + 6}" y="${y + 12}">${r.known ? r.messages : 'unknown'}${r.basic ? ' (Basic)' : ''}</text>`);
    y += rowH;
  }
  const legendY = y + 8;
  let lx = labelW;
  for (const o of outcomes) {
    parts.push(`<rect x="${lx}" y="${legendY}" width="12" height="12" fill="${OUTCOME_COLOUR[o]}"/><text x="${lx + 16}" y="${legendY + 11}">${escapeHtml(`${label[o]} (${count.get(o) ?? 0})`)}</text>`);
    lx += 170;
  }
  const height = legendY + 24;
  const caption = `SMTP AUTH senders by outcome: ${outcomes.map((o) => `${count.get(o) ?? 0} ${label[o]}`).join(', ')}${counted.length > CHART_SENDERS ? `; bars: the ${CHART_SENDERS} busiest of ${counted.length} counted senders by messages` : '; bars: messages per sender'}${uncounted ? `; ${uncounted} sender(s) with an unknown message count not drawn` : ''}.`;
  return `<figure><div class="scroll"><svg role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><title id="chart-title">${escapeHtml(caption)}</title>${parts.join('')}</svg></div><figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

// ---- since the last run ----

function sinceSection(since: SinceLastRun | null, newFromHistory: Finding[], level: 2 | 3 = 2): string {
  const sub = level + 1;
  if (!since && newFromHistory.length === 0) return '';
  const parts: string[] = [];
  if (since) {
    parts.push(`<p>Compared with the ${escapeHtml(since.previousKind)} of ${escapeHtml(since.previousAt)}.</p>`);
    const senderRows: unknown[][] = [
      ...since.newSenders.map((s) => ['new', s.sender, '-', `${s.protocols}, SMTP AUTH ${s.smtpAuth}${s.allowlisted ? ', allowlisted' : ''}`]),
      ...since.goneSenders.map((s) => ['gone', s.sender, `${s.protocols}, SMTP AUTH ${s.smtpAuth}${s.allowlisted ? ', allowlisted' : ''}`, '-']),
      ...since.changedSenders.map((s) => ['changed', s.sender, s.before, s.after]),
    ];
    const itemRows: unknown[][] = [
      ...since.newItems.map((i) => ['new', i.status.toUpperCase(), i.check, i.subject, '-']),
      ...since.resolvedItems.map((i) => ['resolved', '-', i.check, i.subject, i.status.toUpperCase()]),
      ...since.changedItems.map((i) => ['changed', i.after.toUpperCase(), i.check, i.subject, i.before.toUpperCase()]),
    ];
    const tone = (row: unknown[]) => (row[0] === 'new' ? 'fail' : row[0] === 'gone' || row[0] === 'resolved' ? 'pass' : 'warn');
    parts.push(
      since.sendersUnknown
        ? '<p>Senders: not compared (one of the two runs had no usage data).</p>'
        : senderRows.length
          ? `<h${sub}>Senders: ${since.newSenders.length} new, ${since.goneSenders.length} gone, ${since.changedSenders.length} changed</h${sub}>${table(['Since', 'Sender', 'Before', 'Now'], senderRows, { label: 'Senders since the last run', cellClass: (row, i) => (i === 0 ? tone(row) : undefined) })}`
          : '<p>Senders: no new, gone or changed sender.</p>',
    );
    parts.push(
      itemRows.length
        ? `<h${sub}>Findings: ${since.newItems.length} new, ${since.resolvedItems.length} resolved, ${since.changedItems.length} changed</h${sub}>${table(['Since', 'Now', 'Check', 'Subject', 'Before'], itemRows, { label: 'Findings since the last run', cellClass: (row, i) => (i === 0 ? tone(row) : undefined) })}`
        : '<p>Findings: no new, resolved or changed finding.</p>',
    );
  }
  if (newFromHistory.length) {
    parts.push(`<h${sub}>New senders since the previous verify (history:): ${newFromHistory.length}</h${sub}>${table(['Sender', 'Detail'], newFromHistory.map((f) => [f.subject, f.message]), { label: 'New senders from history' })}`);
  }
  return section('Since the last run', level, parts.join('\n'), true, 'since');
}

// ---- pages ----

function stepSection(step: StepPlan): string {
  const parts: string[] = [];
  if (step.changes.length) {
    parts.push(section(`Changes: ${step.changes.length}`, 3, table(['Target', 'Property', 'Before', 'After', 'Reason'], step.changes.map((c: Change) => [c.target, c.property, c.before, c.after, c.reason]), { label: `Changes of step ${step.stepId}` }), step.changes.length <= COLLAPSE_ROWS * 2));
  }
  for (const t of step.tables ?? []) parts.push(section(`${escapeHtml(t.title)} (${t.rows.length})`, 3, reportTable(t), t.rows.length <= COLLAPSE_ROWS));
  if (step.risks.length) parts.push(risksSection(step.risks, `Risks of step ${step.stepId}`, `risks-${step.stepId.replace(/[^A-Za-z0-9_-]/g, '_')}`));
  if (step.inDesiredState.length) parts.push(section(`Already as desired (${step.inDesiredState.length})`, 3, table(['Item'], step.inDesiredState.map((s) => [s]), { label: 'Already as desired' }), step.inDesiredState.length <= 5));
  if (step.notes.length) parts.push(section(`Notes (${step.notes.length})`, 3, table(['Note'], step.notes.map((s) => [s]), { label: 'Notes' }), step.notes.length <= 5));
  const heading = `Step ${escapeHtml(step.stepId)} <small>(${escapeHtml(step.uses)})</small>: ${plural(step.changes.length, 'change')}`;
  return section(heading, 2, parts.join('\n') || '<p>Nothing to do.</p>', true);
}

function reportTable(t: ReportTable): string {
  // In a report table null means "not known / not applicable": a dash, as the other formats show it.
  const body = table(t.columns, t.rows.map((r) => r.map((v) => (v === null ? '-' : v))), { label: t.title });
  if (t.rows.length < 5) return body;
  const scope = `f${++tableCounter}`;
  return `<div id="${scope}">${filterBar(scope, 'rows', Math.min(t.rows.length, MAX_ROWS))}${body}</div>`;
}

function planTiles(plan: PlanDocument, dossiers: readonly SenderDossier[]): Tile[] {
  const risks = [...plan.risks, ...plan.steps.flatMap((s) => s.risks)];
  const warnings = risks.filter((r) => !(r.blocking && !r.accepted)).length;
  return [
    { label: 'blocking risks', value: plan.summary.blockingRisks, tone: plan.summary.blockingRisks ? 'fail' : 'ok' },
    ...senderTiles(dossiers, true),
    { label: 'changes', value: plan.summary.changes, tone: plan.summary.changes ? 'info' : 'ok' },
    { label: 'warnings', value: warnings, tone: warnings ? 'warn' : 'ok' },
  ];
}

function planStatus(plan: PlanDocument, warnings: number): string {
  const { changes, inDesiredState, blockingRisks } = plan.summary;
  const tone = blockingRisks > 0 ? 'fail' : changes > 0 ? 'info' : 'ok';
  const lead = blockingRisks > 0 ? 'APPLY WOULD REFUSE' : changes > 0 ? 'CHANGES TO REVIEW' : 'NOTHING TO DO';
  const warn = warnings ? ` <span class="badge warn">${plural(warnings, 'warning')}</span>` : '';
  return `<p class="summary ${tone}" role="status"><strong>${lead}</strong>: ${plural(changes, 'change')}, ${inDesiredState} already as desired, ${plural(blockingRisks, 'blocking risk')}.${warn}</p>`;
}

/** The plan's sections: status, tiles, since, chart, then the detail. `title` null: the apply page's own. */
function planParts(plan: PlanDocument, options: HtmlOptions, title: string | null): string[] {
  const dossiers = dossiersOfPlan(plan);
  const risks = [...plan.risks, ...plan.steps.flatMap((s) => s.risks)];
  const warnings = risks.filter((r) => !(r.blocking && !r.accepted)).length;
  const body: string[] = [];
  if (title !== null) {
    body.push(header(title, plan.playbook, plan.tenant, plan.createdAt), planStatus(plan, warnings), tiles(planTiles(plan, dossiers)));
    const since = options.previous ? compareRuns(options.previous, snapshotOfPlan(plan)) : null;
    body.push(sinceSection(since, []));
  }
  const chart = outcomeChart(dossiers, true);
  if (chart) body.push(`<h2>Senders by outcome</h2>`, chart);
  // Blocking risks first among the detail; each step's own risks follow its changes.
  body.push(risksSection(plan.risks, 'Plan-wide risks', 'plan-risks'));
  for (const step of plan.steps) body.push(stepSection(step));
  return body.filter(Boolean);
}

function verifyTiles(report: VerifyReport, dossiers: readonly SenderDossier[]): Tile[] {
  const { pass, fail, warn } = report.summary;
  return [
    { label: 'fail', value: fail, tone: fail ? 'fail' : 'ok' },
    ...senderTiles(dossiers, false),
    { label: 'pass', value: pass, tone: 'ok' },
    { label: 'warnings', value: warn, tone: warn ? 'warn' : 'ok' },
  ];
}

function verifyStatus(report: VerifyReport): string {
  const { pass, fail, warn } = report.summary;
  const badge = warn ? ` <span class="badge warn">${plural(warn, 'warning')}</span>` : '';
  return `<p class="summary ${report.compliant ? 'ok' : 'fail'}" role="status"><strong>${report.compliant ? 'COMPLIANT' : 'DRIFT'}</strong>: ${pass} pass, ${fail} fail, ${warn} warn.${badge}</p>`;
}

function verifyParts(report: VerifyReport, options: HtmlOptions, level: 2 | 3, idPrefix: string): string[] {
  const dossiers = dossiersOfFindings(report.findings);
  const since = options.previous ? compareRuns(options.previous, snapshotOfVerify(report)) : null;
  const parts = [verifyStatus(report), tiles(verifyTiles(report, dossiers)), sinceSection(since, report.findings.filter((f) => f.check === 'usage-new-sender'), level)];
  const chart = outcomeChart(dossiers, false);
  if (chart) parts.push(`<h${level}>Senders by outcome</h${level}>`, chart);
  parts.push(findingsSection(report.findings, 'Findings', level, `${idPrefix}findings`));
  if (dossiers.length > 0) {
    const t = dossierTable(dossiers, false);
    parts.push(section(`${escapeHtml(t.title)} (${t.rows.length})`, level, reportTable(t), t.rows.length <= COLLAPSE_ROWS));
  }
  return parts.filter(Boolean);
}

export function renderPlanHtml(plan: PlanDocument, options: HtmlOptions = {}): string {
  tableCounter = 0;
  const title = `${plan.kind === 'rollback' ? 'Rollback plan' : 'Plan'}: ${plan.playbook.name}`;
  return page(`${title} (${plan.tenant.organization})`, planParts(plan, options, title));
}

export function renderVerifyHtml(report: VerifyReport, options: HtmlOptions = {}): string {
  tableCounter = 0;
  const title = `Verify: ${report.playbook.name}`;
  return page(`${title} (${report.tenant.organization})`, [header(title, report.playbook, report.tenant, report.checkedAt), ...verifyParts(report, options, 2, '')]);
}

export function renderApplyHtml(report: ApplyReport, options: HtmlOptions = {}): string {
  tableCounter = 0;
  const plan = report.plan;
  const { applied, failed, skipped } = report.summary;
  const title = `${plan.kind === 'rollback' ? 'Rollback' : 'Apply'}: ${plan.playbook.name}`;
  const tone = failed || report.interrupted || (report.verify && !report.verify.compliant) ? 'fail' : 'ok';
  const lead = failed ? 'FAILED WRITES' : report.interrupted ? 'INTERRUPTED' : report.verify && !report.verify.compliant ? 'APPLIED, DRIFT REMAINS' : 'APPLIED';
  const dossiers = dossiersOfPlan(plan);
  const body = [
    header(title, plan.playbook, plan.tenant, plan.createdAt, [['Run directory', report.runDir]]),
    `<p class="summary ${tone}" role="status"><strong>${lead}</strong>: ${applied} applied, ${failed} failed, ${skipped} skipped${report.interrupted ? ' (interrupted)' : ''}.</p>`,
    tiles([
      { label: 'failed writes', value: failed, tone: failed ? 'fail' : 'ok' },
      ...senderTiles(dossiers, true, plan.kind === 'rollback' ? 'senders the plan took SMTP AUTH from' : 'lost SMTP AUTH with this change'),
      { label: 'changes applied', value: applied, tone: applied ? 'info' : 'ok' },
      { label: 'verify warnings', value: report.verify ? report.verify.summary.warn : 'no verify', tone: report.verify?.summary.warn ? 'warn' : 'plain' },
    ]),
  ];
  const order = { failed: 0, skipped: 1, applied: 2 } as const;
  const results = [...report.results].sort((a, b) => order[a.status] - order[b.status]);
  body.push(
    section(
      `Result (${report.results.length})`,
      2,
      table(['Status', 'Target', 'Property', 'Before', 'After', 'Attempts', 'Error'], results.map((r) => [r.status, r.target, r.property, r.before, r.after, r.attempts, r.error ?? '-']), {
        label: 'Results',
        cellClass: (row, i) => (i === 0 ? (row[0] === 'failed' ? 'fail' : row[0] === 'applied' ? 'pass' : 'warn') : undefined),
      }),
      true,
    ),
  );
  if (report.verify) body.push('<h2>Verify after apply</h2>', ...verifyParts(report.verify, options, 3, 'after-'));
  else if (options.previous) body.push(sinceSection(compareRuns(options.previous, snapshotOfPlan(plan)), []));
  body.push('<h2>The plan that was applied</h2>', ...planParts(plan, {}, null));
  return page(`${title} (${plan.tenant.organization})`, body);
}
