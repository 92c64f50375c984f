/**
 * The fleet report in every format: text and markdown (a summary table by tenant, then the problems;
 * markdown within a budget, 60,000 characters by default, so 1,000 tenants still fit a pull-request
 * comment), json (the FleetResult: schema and formatVersion, each tenant's own report inside), junit
 * (one testsuite per tenant), html (one self-contained page: totals, a per-tenant table to sort and
 * filter, each tenant's detail a click away) and csv (one row per tenant and sender).
 */
import { createHash } from 'node:crypto';
import { DOSSIER_CSV_COLUMNS, csvCell, dossierCsv } from '../actions/smtp-auth/usage/dossier.js';
import { planDossiers, verifyDossiers } from '../report/dossier-csv.js';
import { escapeHtml } from '../report/html.js';
import { FLEET_FORMAT_VERSION, type FleetResult, type FleetTenantResult, type TenantStatus } from './result.js';
import { escapeXml } from '../report/junit.js';
import { escapeMarkdown, PR_MARKDOWN_BUDGET } from '../report/markdown.js';
import { renderApplyText, renderPlanText, renderVerifyText } from '../report/text.js';

export const FLEET_FORMATS = ['text', 'markdown', 'json', 'junit', 'html', 'csv'] as const;

const STATUS_ORDER: TenantStatus[] = ['error', 'refused', 'not-run', 'partial', 'drift', 'changes', 'ok'];
const severity = (t: FleetTenantResult) => STATUS_ORDER.indexOf(t.status);

export function renderFleet(result: FleetResult, format: string, options: { color?: boolean; maxChars?: number } = {}): string {
  switch (format) {
    case 'json':
      return renderFleetJson(result);
    case 'markdown':
      return renderFleetMarkdown(result, options.maxChars ?? PR_MARKDOWN_BUDGET);
    case 'junit':
      return renderFleetJunit(result);
    case 'html':
      return renderFleetHtml(result);
    case 'csv':
      return renderFleetCsv(result);
    default:
      return renderFleetText(result, options.color ?? false);
  }
}

function title(r: FleetResult): string {
  const name = r.playbook.name ? `${r.playbook.name} (${r.playbook.file})` : r.playbook.file;
  return `fleet ${r.command} ${name}`;
}

function realness(r: FleetResult): string {
  return r.simulated ? 'SIMULATED' : r.tenants.some((t) => t.target.startsWith('sim:')) ? 'REAL and SIMULATED' : 'REAL';
}

function statusCounts(r: FleetResult): string {
  return STATUS_ORDER.filter((s) => r.summary.byStatus[s]).map((s) => `${r.summary.byStatus[s]} ${s}`).join(', ');
}

function totalsLine(r: FleetResult): string {
  const s = r.summary;
  const parts = [`${s.tenants} tenant(s): ${statusCounts(r)}`];
  if (r.command === 'plan' || r.command === 'apply') parts.push(`${s.changes} change(s)`, `${s.blockingRisks} blocking risk(s)`);
  if (r.command === 'apply' || r.command === 'rollback') parts.push(`${s.applied} applied`, `${s.failed} failed`);
  if (r.command === 'verify' || r.command === 'apply') parts.push(`${s.failingChecks} failing check(s)`);
  return parts.join('; ');
}

/** "exit 1: a, b; exit 2: 14 tenant(s)": which tenant gave which code, worst first; long lists counted. */
function exitLine(r: FleetResult, listed = 5): string {
  const codes = Object.keys(r.summary.byExitCode).map(Number);
  const order = [1, 4, 3, 2, 0].filter((c) => codes.includes(c)).concat(codes.filter((c) => ![0, 1, 2, 3, 4].includes(c)));
  return order
    .map((code) => {
      const ids = r.summary.byExitCode[String(code)]!;
      const names = ids.length <= listed ? ids.join(', ') : `${ids.slice(0, listed).join(', ')} and ${ids.length - listed} more`;
      return `exit ${code}: ${code === 0 || code === 2 ? `${ids.length} tenant(s)` : names}`;
    })
    .join('; ');
}

function problemTenants(r: FleetResult): FleetTenantResult[] {
  return r.tenants.filter((t) => t.exitCode !== 0 && t.exitCode !== 2).sort((a, b) => severity(a) - severity(b) || a.index - b.index);
}

// ---------------------------------------------------------------------------------------------
export function renderFleetText(r: FleetResult, color: boolean): string {
  const paint = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const statusColour: Record<TenantStatus, number> = { ok: 32, changes: 33, drift: 33, partial: 31, refused: 31, error: 31, 'not-run': 31 };
  const idWidth = Math.min(48, Math.max(6, ...r.tenants.map((t) => t.id.length)));
  const lines = [
    `${title(r)} over ${r.tenants.length} tenant(s) [${realness(r)}]${r.selection.shard ? ` (shard ${r.selection.shard.k}/${r.selection.shard.n})` : ''}`,
    `inventory: ${r.inventory.file}`,
    '',
    `${'TENANT'.padEnd(idWidth)}  ${'STATUS'.padEnd(8)}  EXIT  RESULT`,
    ...r.tenants.map((t) => `${t.id.padEnd(idWidth)}  ${paint(statusColour[t.status], t.status.padEnd(8))}  ${String(t.exitCode).padEnd(4)}  ${t.message}${t.runDir ? ` [${t.runDir}]` : ''}`),
    '',
    `Totals: ${totalsLine(r)}`,
    `Exit ${r.exitCode} (the worst of the tenants'): ${exitLine(r, 10)}`,
  ];
  const problems = problemTenants(r);
  if (problems.length) {
    lines.push('', 'Problems:');
    for (const t of problems) {
      lines.push(`  ${t.id} (exit ${t.exitCode}): ${t.message}`);
      for (const d of t.error?.details ?? []) lines.push(`    - ${d}`);
    }
  }
  const blocked = r.tenants.filter((t) => (t.plan ?? t.apply?.plan)?.summary.blockingRisks);
  if (blocked.length && r.command === 'plan') {
    lines.push('', 'Blocking risks (apply would refuse these tenants):');
    for (const t of blocked) lines.push(`  ${t.id}: ${blockingOf(t).slice(0, 5).join('; ')}${blockingOf(t).length > 5 ? `; and ${blockingOf(t).length - 5} more` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A tenant's blocking risks, one short line each. */
export function blockingOf(t: FleetTenantResult): string[] {
  const plan = t.plan ?? t.apply?.plan;
  if (!plan) return [];
  // The subject and the first clause of the message (the tenant's own report has the rest).
  return [...plan.risks, ...plan.steps.flatMap((s) => s.risks)].filter((risk) => risk.blocking && !risk.accepted).map((risk) => `${risk.subject}: ${risk.message.split(/: |\. /)[0]}`);
}

// ---------------------------------------------------------------------------------------------
export function renderFleetMarkdown(r: FleetResult, budget: number): string {
  const head = [
    `## exo-playbook ${title(r).replace(/^fleet /, 'fleet ')}`,
    '',
    `**${r.tenants.length} tenant(s)** · ${realness(r)}${r.selection.shard ? ` · shard ${r.selection.shard.k}/${r.selection.shard.n}` : ''} · exit **${r.exitCode}**`,
    '',
    '| status | tenants |',
    '|---|---:|',
    ...STATUS_ORDER.filter((s) => r.summary.byStatus[s]).map((s) => `| ${s} | ${r.summary.byStatus[s]} |`),
    '',
    `${escapeMarkdown(totalsLine(r))}`,
    '',
    `Exit codes: ${escapeMarkdown(exitLine(r))}`,
    '',
  ].join('\n');
  const problems = problemTenants(r);
  const problemLines = problems.map((t) => `- **${escapeMarkdown(t.id)}** (exit ${t.exitCode}): ${escapeMarkdown(t.message.slice(0, 300))}`);
  const rows = [...r.tenants].sort((a, b) => severity(a) - severity(b) || a.index - b.index).map((t) => `| ${escapeMarkdown(t.id)} | ${t.status} | ${t.exitCode} | ${escapeMarkdown(t.message.slice(0, 120))} |`);
  const fullReport = 'the full report: `--format json` or `--format html` (in CI, the uploaded artifact)';
  // The problems get up to a third of the budget, the table the rest; each list says how many it left out.
  const tail = (lines: string[], room: number, noun: string): string[] => {
    const out: string[] = [];
    let used = 0;
    for (const [i, line] of lines.entries()) {
      const more = `\n… and ${lines.length - i} more ${noun} (${fullReport})`;
      if (used + line.length + 1 + more.length > room) {
        out.push(more.trim());
        return out;
      }
      out.push(line);
      used += line.length + 1;
    }
    return out;
  };
  const reserve = 400;
  const problemRoom = Math.floor((budget - head.length - reserve) / 3);
  const problemPart = problems.length ? ['### Problems', '', ...tail(problemLines, problemRoom, 'problem(s)'), ''].join('\n') : '';
  const tableRoom = budget - head.length - problemPart.length - reserve;
  const tablePart = ['### Tenants', '', '| tenant | status | exit | result |', '|---|---|---:|---|', ...tail(rows, tableRoom, 'tenant(s)'), ''].join('\n');
  return `${head}\n${tablePart}\n${problemPart}`;
}

// ---------------------------------------------------------------------------------------------
/** The FleetResult, each tenant's report shaped as its own `--format json` (formatVersion and kind). */
export function renderFleetJson(r: FleetResult): string {
  const tenants = r.tenants.map((t) => ({
    ...t,
    ...(t.verify ? { verify: { formatVersion: 1, kind: 'verify', ...t.verify } } : {}),
    ...(t.apply ? { apply: { formatVersion: 1, kind: 'apply', ...t.apply } } : {}),
  }));
  return `${JSON.stringify({ ...r, formatVersion: FLEET_FORMAT_VERSION, kind: 'fleet', tenants }, null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------
function attrs(values: Record<string, string | number>): string {
  return Object.entries(values).map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`).join('');
}

/** One testsuite per tenant: its verify findings as testcases, or one testcase for the run itself. */
export function renderFleetJunit(r: FleetResult): string {
  let tests = 0;
  let failures = 0;
  let errors = 0;
  const suites = r.tenants.map((t) => {
    const verify = t.verify ?? t.apply?.verify;
    const cases: string[] = [];
    let f = 0;
    let e = 0;
    let skipped = 0;
    const name = `${r.command}: ${t.id}`;
    const time = (t.durationMs / 1000).toFixed(3);
    const failed = t.exitCode === 1 || t.exitCode === 3 || t.exitCode === 4;
    if (failed || !verify) {
      const open = `    <testcase${attrs({ classname: t.id, name: `fleet ${r.command}`, time })}`;
      if (t.exitCode === 1) {
        e += 1;
        cases.push(`${open}>\n      <error${attrs({ message: t.message, type: t.error?.kind ?? 'error' })}>${escapeXml(t.message)}</error>\n    </testcase>`);
      } else if (failed) {
        f += 1;
        cases.push(`${open}>\n      <failure${attrs({ message: t.message, type: t.error?.guard ?? t.status })}>${escapeXml([t.message, ...(t.error?.details ?? [])].join('\n'))}</failure>\n    </testcase>`);
      } else {
        cases.push(`${open}>\n      <system-out>${escapeXml(t.message)}</system-out>\n    </testcase>`);
      }
    }
    for (const finding of verify?.findings ?? []) {
      const open = `    <testcase${attrs({ classname: `${t.id}.${finding.stepId}`, name: `${finding.check}: ${finding.subject}`, time: 0 })}`;
      if (finding.status === 'pass') cases.push(`${open}/>`);
      else if (finding.status === 'fail') {
        f += 1;
        cases.push(`${open}>\n      <failure${attrs({ message: finding.message, type: finding.check })}>${escapeXml(`${finding.subject}: ${finding.message}`)}</failure>\n    </testcase>`);
      } else {
        skipped += 1;
        cases.push(`${open}>\n      <skipped${attrs({ message: `WARN ${finding.subject}: ${finding.message}` })}/>\n    </testcase>`);
      }
    }
    tests += cases.length;
    failures += f;
    errors += e;
    return [`  <testsuite${attrs({ name, tests: cases.length, failures: f, errors: e, skipped, time })}>`, ...cases, '  </testsuite>'].join('\n');
  });
  const head = `<testsuites${attrs({ name: `exo-playbook ${title(r)} (${r.tenants.length} tenants)`, tests, failures, errors, time: 0 })}>`;
  return ['<?xml version="1.0" encoding="UTF-8"?>', head, ...suites, '</testsuites>', ''].join('\n');
}

// ---------------------------------------------------------------------------------------------
/** One row per tenant and sender (the usage step's dossiers); a tenant without senders still has its row. */
export function renderFleetCsv(r: FleetResult): string {
  const columns = ['tenant', 'tenant name', 'status', 'exit', ...DOSSIER_CSV_COLUMNS];
  const lines = [columns.map(csvCell).join(',')];
  for (const t of r.tenants) {
    const lead = [t.id, t.name ?? '', t.status, String(t.exitCode)].map(csvCell).join(',');
    const plan = t.plan ?? t.apply?.plan;
    const verify = t.verify ?? t.apply?.verify;
    const dossiers = verify ? verifyDossiers(verify) : plan ? planDossiers(plan) : [];
    if (!dossiers.length) {
      lines.push(`${lead}${','.repeat(DOSSIER_CSV_COLUMNS.length)}`);
      continue;
    }
    // dossierCsv's rows (header dropped): the cells are already quoted and neutralised.
    const rows = dossierCsv(dossiers).replace(/^\uFEFF/, '').split('\r\n').slice(1).filter(Boolean);
    for (const row of rows) lines.push(`${lead},${row}`);
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

// ---------------------------------------------------------------------------------------------
const FLEET_STYLE = `
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1f2328; margin: 0 auto; max-width: 1300px; padding: 24px; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f6f8fa; } th[data-sort] { cursor: pointer; user-select: none; } th[data-sort]::after { content: " ↕"; color: #8c959f; }
.ok { color: #1a7f37; font-weight: 600; } .changes, .drift { color: #9a6700; font-weight: 600; } .error, .refused, .partial, .not-run { color: #cf222e; font-weight: 600; }
.totals { display: flex; gap: 12px; flex-wrap: wrap; } .totals div { background: #f6f8fa; border-radius: 6px; padding: 8px 14px; }
.controls { margin: 12px 0; display: flex; gap: 8px; } .controls input { flex: 1; padding: 4px 8px; }
pre { background: #f6f8fa; padding: 8px; overflow-x: auto; font-size: 12px; white-space: pre-wrap; }
footer { margin-top: 32px; color: #59636e; font-size: 12px; }
`;

/** Sorting and filtering; allowed by the page's Content-Security-Policy through its hash, nothing else runs. */
const FLEET_SCRIPT = `
(function () {
  var table = document.getElementById('tenants');
  var body = table.tBodies[0];
  var filter = document.getElementById('filter');
  var status = document.getElementById('status');
  function apply() {
    var text = filter.value.toLowerCase();
    var wanted = status.value;
    Array.prototype.forEach.call(body.rows, function (row) {
      var show = row.textContent.toLowerCase().indexOf(text) >= 0 && (!wanted || row.getAttribute('data-status') === wanted);
      row.hidden = !show;
    });
  }
  filter.addEventListener('input', apply);
  status.addEventListener('change', apply);
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell, column) {
    cell.addEventListener('click', function () {
      var numeric = cell.getAttribute('data-sort') === 'number';
      var down = cell.getAttribute('data-dir') !== 'asc';
      cell.setAttribute('data-dir', down ? 'asc' : 'desc');
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute('data-key') || a.cells[column].textContent;
        var y = b.cells[column].getAttribute('data-key') || b.cells[column].textContent;
        var c = numeric ? Number(x) - Number(y) : x.localeCompare(y);
        return down ? c : -c;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
})();
`;

function tenantDetail(t: FleetTenantResult): string {
  const text = t.apply ? renderApplyText(t.apply, { color: false }) : t.verify ? renderVerifyText(t.verify, { color: false }) : t.plan ? renderPlanText(t.plan, { color: false }) : '';
  const details = t.error?.details?.length ? `\n${t.error.details.map((d) => `  - ${d}`).join('\n')}` : '';
  return `<details id="t${t.index}"><summary><b>${escapeHtml(t.id)}</b> <span class="${t.status}">${escapeHtml(t.status)}</span> exit ${t.exitCode}: ${escapeHtml(t.message)}</summary>
<pre>${escapeHtml(`${t.message}${details}${t.runDir ? `\nrun folder: ${t.runDir}` : ''}\n\n${text}`)}</pre></details>`;
}

export function renderFleetHtml(r: FleetResult): string {
  const scriptHash = createHash('sha256').update(FLEET_SCRIPT).digest('base64');
  const totals = [
    ['Tenants', String(r.tenants.length)],
    ['Exit code', String(r.exitCode)],
    ...STATUS_ORDER.filter((s) => r.summary.byStatus[s]).map((s) => [s, String(r.summary.byStatus[s])]),
    ...(r.command === 'plan' || r.command === 'apply' ? [['Changes', String(r.summary.changes)], ['Blocking risks', String(r.summary.blockingRisks)]] : []),
  ];
  const rows = r.tenants.map((t) => {
    const plan = t.plan ?? t.apply?.plan;
    return `<tr data-status="${escapeHtml(t.status)}"><td data-key="${t.index}">${t.index + 1}</td><td><a href="#t${t.index}">${escapeHtml(t.id)}</a></td><td>${escapeHtml(t.name ?? '')}</td><td>${escapeHtml(t.tags.join(' '))}</td><td class="${escapeHtml(t.status)}">${escapeHtml(t.status)}</td><td>${t.exitCode}</td><td>${plan ? plan.summary.changes : ''}</td><td>${plan ? plan.summary.blockingRisks : ''}</td><td>${escapeHtml(t.message)}</td></tr>`;
  });
  const statuses = STATUS_ORDER.filter((s) => r.summary.byStatus[s]);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${scriptHash}'">
<title>${escapeHtml(`exo-playbook ${title(r)}`)}</title>
<style>${FLEET_STYLE}</style>
</head>
<body>
<h1>${escapeHtml(`exo-playbook ${title(r)}`)}</h1>
<p>${escapeHtml(realness(r))} · inventory ${escapeHtml(r.inventory.file)}${r.selection.shard ? ` · shard ${r.selection.shard.k}/${r.selection.shard.n}` : ''} · ${escapeHtml(r.startedAt)}</p>
<div class="totals">${totals.map(([k, v]) => `<div>${escapeHtml(k)}<br><b>${escapeHtml(v)}</b></div>`).join('')}</div>
<p>${escapeHtml(exitLine(r))}</p>
<h2>Tenants</h2>
<div class="controls"><input id="filter" type="search" placeholder="Filter tenants (id, name, tag, message)" aria-label="Filter tenants"><select id="status" aria-label="Status"><option value="">every status</option>${statuses.map((s) => `<option value="${s}">${s}</option>`).join('')}</select></div>
<table id="tenants"><thead><tr><th data-sort="number">#</th><th data-sort="text">tenant</th><th data-sort="text">name</th><th data-sort="text">tags</th><th data-sort="text">status</th><th data-sort="number">exit</th><th data-sort="number">changes</th><th data-sort="number">blocking</th><th data-sort="text">result</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
<h2>Each tenant</h2>
${r.tenants.map(tenantDetail).join('\n')}
<footer>exo-playbook fleet report. Full data: <code>--format json</code>.</footer>
<script>${FLEET_SCRIPT}</script>
</body>
</html>
`;
}
