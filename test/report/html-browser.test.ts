/**
 * `--format html` in a real headless browser: Debian's Chromium (/usr/bin/chromium; .ci/run installs
 * it) driven by playwright-core with a fresh profile and no network services. The plan, verify and
 * apply reports of a simulated tenant render without a console error or any request beyond the file
 * itself (the one inline script runs under the page's CSP), at 1400 px and at 420 px (a phone):
 * screenshots of both widths are written into the test's temporary folder; the page body never
 * overflows sideways; no header or short value breaks inside a word (each fits on one line); the
 * filter and the sort work; the status colour matches the result; findings come grouped by check with
 * their advice once; the chart is coloured by outcome; "Since the last run" compares with an earlier
 * result; text keeps WCAG AA contrast (4.5:1) with its background. Printing yields a PDF with every
 * section open. Set EXO_HTML_SHOTS=<folder> to keep the screenshots (full page and first screen).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportWorkspace, runCli, type ReportWorkspace } from '../support/report-workspace.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI === 'true') throw new Error('chromium is missing: apt-get install chromium (.ci/run does)');

const WIDE = 1400;
const PHONE = 420;

let w: ReportWorkspace;
let profile: string;
let shots: string;
let browser: BrowserContext;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  w = await reportWorkspace(400, 'html-browser');
  env = { ...process.env, EXO_PLAYBOOK_LOCK_DIR: join(w.dir, 'locks') };
  if (!hasChromium) return;
  profile = mkdtempSync(join(tmpdir(), 'exo-chromium-profile-'));
  shots = process.env.EXO_HTML_SHOTS ?? mkdtempSync(join(tmpdir(), 'exo-html-shots-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    viewport: { width: WIDE, height: 900 },
    offline: true,
  });
});

afterAll(async () => {
  await browser?.close();
  for (const dir of [profile, process.env.EXO_HTML_SHOTS ? undefined : shots]) if (dir) rmSync(dir, { recursive: true, force: true });
  w?.cleanup();
});

/** Width and height from a PNG's IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const png = readFileSync(file);
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

interface Opened {
  page: Page;
  problems: string[];
  requests: string[];
}

async function open(html: string, name: string, width = WIDE): Promise<Opened> {
  const file = join(w.dir, `${name}.html`);
  writeFileSync(file, html);
  const page = await browser.newPage();
  await page.setViewportSize({ width, height: 900 });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) requests.push(r.url());
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  // The script marks the page once it ran (CSP let it).
  await page.waitForSelector('html.js');
  return { page, problems, requests };
}

async function screenshot(page: Page, name: string, width: number): Promise<void> {
  const shot = join(shots, `${name}-${width}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  // What a reader sees first, at that width.
  await page.screenshot({ path: join(shots, `${name}-${width}-top.png`) });
  const size = pngSize(shot);
  expect(size.width).toBe(width);
  expect(size.height).toBeGreaterThan(400);
}

/** Page-side checks, as strings: this file is compiled without the DOM types. */
const BODY_OVERFLOW = 'document.documentElement.scrollWidth - document.documentElement.clientWidth';
/** Headers and short cells whose text takes more than one line (a word split), with their text. */
const BROKEN_SHORT_CELLS = `(() => {
  const broken = [];
  for (const el of document.querySelectorAll('th button.sort, td.short, td.addr')) {
    if (!el.offsetParent) continue;
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
    if (el.matches('td.addr:not(.short)')) {
      // An address may break, but only after "@" or ".": every piece stays on one line.
      for (const span of el.querySelectorAll('span')) {
        const r = document.createRange();
        r.selectNodeContents(span);
        const t = new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top)));
        if (t.size > 1) broken.push(span.textContent);
      }
    } else if (tops.size > 1) broken.push(el.textContent);
  }
  return broken;
})()`;

/** Text whose contrast with its background is under WCAG AA (4.5:1), as "selector: ratio". */
const LOW_CONTRAST = `(() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const bg = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3); } return [255, 255, 255]; };
  const low = [];
  for (const sel of ['td.fail', 'td.warn', 'td.pass', '.badge', '.tile .n', '.tile .l', '.more', 'figcaption', '.summary', 'th', 'td', 'summary', 'svg text']) {
    for (const el of document.querySelectorAll(sel)) {
      const fg = sel === 'svg text' ? rgb(getComputedStyle(el).fill) : rgb(getComputedStyle(el).color);
      const [a, b] = [lum(fg), lum(bg(el))].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      if (ratio < 4.5) { low.push(sel + ': ' + ratio.toFixed(2)); break; }
    }
  }
  return low;
})()`;

async function layoutChecks(page: Page, name: string): Promise<void> {
  for (const width of [WIDE, PHONE]) {
    await page.setViewportSize({ width, height: 900 });
    // Every section open, so every table is laid out and measured.
    await page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })");
    expect(await page.evaluate(BODY_OVERFLOW), `${name} at ${width}px overflows sideways`).toBeLessThanOrEqual(0);
    expect(await page.evaluate(BROKEN_SHORT_CELLS), `${name} at ${width}px`).toEqual([]);
    expect(await page.evaluate(LOW_CONTRAST), `${name}: text under 4.5:1 contrast`).toEqual([]);
    await screenshot(page, name, width);
  }
  await page.setViewportSize({ width: WIDE, height: 900 });
}

const visibleRows = (page: Page, scope: string) => page.locator(`${scope} table.data tbody tr:visible`).count();

describe.runIf(hasChromium)('HTML report in headless Chromium', () => {
  let previousVerify = '';

  it('plan: status, tiles and chart before the long tables; outcome colours; risks grouped with advice once; fits 1400 and 420 px', async () => {
    const r = await runCli(['plan', 'smtp-auth-disable.yaml', ...w.target, '--format', 'html'], w.dir, env);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toMatch(/^<!DOCTYPE html>/);
    // Self-contained: one inline script allowed by its hash, nothing loaded from anywhere.
    expect(r.stdout).not.toMatch(/<link|@import|url\(|src=/i);
    expect(r.stdout.match(/<script>/g)).toHaveLength(1);
    expect(r.stdout).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    const { page, problems, requests } = await open(r.stdout, 'plan');
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    expect(await page.locator('h1').innerText()).toBe('Plan: smtp-auth-disable');
    // Blocking risks: red, with the counts; not a success tick.
    const status = page.locator('.summary');
    expect(await status.innerText()).toMatch(/^APPLY WOULD REFUSE: \d+ changes, \d+ already as desired, [1-9]\d* blocking risks?\./);
    expect(await status.getAttribute('class')).toContain('fail');
    // Tiles: the six numbers a reader looks for.
    const tileLabels = await page.locator('.tile .l').allInnerTexts();
    expect(tileLabels).toEqual(['blocking risks', 'will lose SMTP AUTH', 'Basic senders', 'allowlisted senders', 'changes', 'warnings']);
    const tile = (label: string) => page.locator(`.tile[data-tile="${label}"] .n`).innerText();
    expect(Number(await tile('will lose SMTP AUTH'))).toBeGreaterThan(0);
    expect(Number(await tile('changes'))).toBeGreaterThan(0);
    // The chart comes before any risk table, and is coloured by outcome with a labelled legend.
    const order = await page.evaluate(`(() => { const all = [...document.querySelectorAll('figure, #plan-risks, [id^="risks-"], table.data')]; return all.map((e) => e.tagName === 'FIGURE' ? 'chart' : e.id ? 'risks' : 'table'); })()`);
    expect((order as string[])[0]).toBe('chart');
    const outcomes = await page.locator('svg rect.sender').evaluateAll((rects) => rects.map((r) => r.getAttribute('data-outcome')));
    expect(outcomes.length).toBeGreaterThanOrEqual(5);
    expect(outcomes.length).toBeLessThanOrEqual(20);
    expect(new Set(outcomes)).toContain('loses');
    expect(outcomes.every((o) => o === 'keeps' || o === 'loses' || o === 'allowlisted')).toBe(true);
    expect(await page.locator('figcaption').innerText()).toMatch(/^SMTP AUTH senders by outcome: \d+ loses SMTP AUTH, \d+ keeps SMTP AUTH, \d+ allowlisted/);
    expect(await page.locator('svg[role="img"] > title').count()).toBe(1);
    // Risks grouped by kind: the BLOCKING group is open and lists each sender once.
    const blocking = page.locator('details.group:has(.badge:text-matches("^BLOCKING"))').first();
    expect(await blocking.getAttribute('open')).not.toBeNull();
    // The usage table: every sender of the CSV.
    const csv = readFileSync(join(w.dir, 'smtp-auth-clients-report.csv'), 'utf8').replace(/^\uFEFF/, '').split('\r\n');
    const firstSender = csv[1]!.split(',')[0]!;
    expect(await page.locator('table.data:has(th:has-text("Last seen"))').first().textContent()).toContain(firstSender);
    await layoutChecks(page, 'plan');
    // Printed: every section open, black on white, a PDF.
    await page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = false; })");
    await page.emulateMedia({ media: 'print' });
    expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(255, 255, 255)');
    expect(await page.evaluate("getComputedStyle(document.querySelector('.filterbar')).display")).toBe('none');
    // Collapsed sections print in full: their tables take space on paper.
    expect(await page.evaluate("document.querySelectorAll('details:not([open])').length")).toBeGreaterThan(0);
    expect(await page.evaluate("[...document.querySelectorAll('details:not([open]) table')].every((t) => t.getBoundingClientRect().height > 0)")).toBe(true);
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    await page.close();
  });

  it('verify with drift: red, failures first, grouped by check with control ids and advice once; filter and sort work', async () => {
    const json = await runCli(['verify', 'smtp-auth-disable.yaml', ...w.target, '--format', 'json'], w.dir, env);
    expect(json.code, json.stderr).toBe(2);
    previousVerify = join(w.dir, 'verify-before.json');
    writeFileSync(previousVerify, json.stdout);
    const r = await runCli(['verify', 'smtp-auth-disable.yaml', ...w.target, '--format', 'html'], w.dir, env);
    expect(r.code, r.stderr).toBe(2);
    const { page, problems, requests } = await open(r.stdout, 'verify');
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    expect(await page.locator('.summary').innerText()).toMatch(/^DRIFT: \d+ pass, [1-9]\d* fail, \d+ warn\./);
    expect(await page.locator('.summary').getAttribute('class')).toContain('fail');
    // Groups: failing checks first and open, one group per check, the control ids in the summary line.
    const groups = page.locator('#findings details.group');
    const checks = await groups.evaluateAll((gs) => gs.map((g) => g.getAttribute('data-check')));
    expect(new Set(checks).size).toBe(checks.length);
    expect(await groups.first().locator('.badge').first().innerText()).toMatch(/^FAIL \d+$/);
    expect(await groups.first().getAttribute('open')).not.toBeNull();
    // The organization switch leads the failures (control-id order within a status).
    expect(checks[0]).toBe('organization-off');
    const org = page.locator('#findings details.group[data-check="organization-off"] summary');
    expect(await org.innerText()).toMatch(/EXOPB-SMTP-001.*CIS 6\.5\.4 · CISA MS\.EXO\.5\.1v1/);
    // Advice once per group: the deadline group states its shared text and advice once, not per row.
    const deadline = page.locator('#findings details.group[data-check="basic-smtp-deadline"]');
    expect(await deadline.count()).toBe(1);
    // Warning groups start collapsed; the text is there all the same.
    expect(await deadline.getAttribute('open')).toBeNull();
    const rowsText = (await deadline.locator('tbody').textContent()) ?? '';
    expect(rowsText).not.toContain('Advice');
    expect(rowsText).not.toContain('breaks when Microsoft switches');
    const shared = (await deadline.locator('.shared').textContent()) ?? '';
    expect(shared).toMatch(/(All \d+|\d+ of \d+)( \([^)]*\))?: breaks when Microsoft switches Basic SMTP AUTH off by default/);
    expect(shared).toMatch(/Advice \(/);
    // Each distinct advice once.
    const advice = (await deadline.locator('.shared li').allTextContents()).filter((a) => a.startsWith('Advice'));
    expect(advice.length).toBeGreaterThanOrEqual(1);
    expect(new Set(advice.map((a) => a.replace(/^Advice \([^)]*\): /, ''))).size).toBe(advice.length);

    // Filter: type an address, only its rows stay; clear it, all come back.
    const total = await page.locator('#findings table.data tbody tr').count();
    const sender = ((await deadline.locator('tbody tr td:nth-child(2)').first().textContent()) ?? '').replace(/\s/g, '');
    expect(sender).toMatch(/@/);
    // Every row counts, including those in collapsed groups.
    await page.evaluate("document.querySelectorAll('#findings details').forEach((d) => { d.open = true; })");
    await page.locator('#findings-filter').fill(sender);
    const shown = await visibleRows(page, '#findings');
    expect(shown).toBeGreaterThanOrEqual(1);
    expect(shown).toBeLessThan(total);
    for (const text of await page.locator('#findings table.data tbody tr:visible').allInnerTexts()) expect(text.replace(/\s/g, '').toLowerCase()).toContain(sender.toLowerCase());
    expect(await page.locator('#findings-count').innerText()).toBe(`${shown} of ${total} rows match`);
    await page.locator('#findings-filter').fill('');
    await page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })");
    expect(await visibleRows(page, '#findings')).toBe(total);

    // The senders table has its own filter: one sender's row stays.
    const senders = page.locator('div:has(> .filterbar):has(table.data th:has-text("Seen by"))').last();
    const senderTotal = await senders.locator('tbody tr').count();
    await senders.locator('input.filter').fill(sender);
    expect(await senders.locator('tbody tr:visible').count()).toBe(1);
    expect(await senders.locator('span[aria-live]').innerText()).toBe(`1 of ${senderTotal} rows match`);
    await senders.locator('input.filter').fill('');
    expect(await senders.locator('tbody tr:visible').count()).toBe(senderTotal);

    // Sort: the dossier table by Messages, numbers as numbers, both ways.
    const dossier = page.locator('table.data:has(th:has-text("Messages"))').last();
    const column = await dossier.locator('thead th').evaluateAll((ths) => ths.findIndex((th) => th.textContent?.trim() === 'Messages'));
    const messages = async () => (await dossier.locator(`tbody tr td:nth-child(${column + 1})`).allInnerTexts()).map((t) => Number(t.trim()));
    await dossier.locator('th button.sort', { hasText: 'Messages' }).click();
    const up = await messages();
    expect(up.length).toBeGreaterThan(5);
    expect(up).toEqual([...up].sort((a, b) => a - b));
    expect(await dossier.locator('th[aria-sort="ascending"]').innerText()).toBe('Messages');
    await dossier.locator('th button.sort', { hasText: 'Messages' }).click();
    const down = await messages();
    expect(down).toEqual([...up].sort((a, b) => b - a));
    await layoutChecks(page, 'verify');
    await page.close();
  });

  it('apply: its own heading and result; verify after apply compliant with warnings is green with the count; since the last run lists what changed', async () => {
    const r = await runCli(['apply', 'smtp-auth-disable.yaml', ...w.target, '--yes', '--accept-breakage', 'all', '--runs-dir', 'runs', '--format', 'html', '--compare', 'verify-before.json'], w.dir, env);
    expect(r.code, r.stderr).toBe(0);
    const { page, problems, requests } = await open(r.stdout, 'apply');
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    expect(await page.locator('h1').innerText()).toBe('Apply: smtp-auth-disable');
    expect(r.stdout).not.toContain('<h1>Plan:');
    expect(await page.locator('.summary').first().innerText()).toMatch(/^APPLIED: [1-9]\d* applied, 0 failed, \d+ skipped\./);
    // Since the last run: the earlier verify's failures are resolved now.
    const since = page.locator('#since');
    expect(await since.locator('h4', { hasText: /^Findings: \d+ new, [1-9]\d* resolved, \d+ changed$/ }).count()).toBe(1);
    expect(await since.innerText()).toContain('organization-off');
    await layoutChecks(page, 'apply');
    await page.close();

    // The same tenant verified now: compliant with warnings is green, never amber, with the count.
    const v = await runCli(['verify', 'smtp-auth-disable.yaml', ...w.target, '--format', 'html', '--compare', 'verify-before.json'], w.dir, env);
    expect(v.code, v.stderr).toBe(0);
    const compliant = await open(v.stdout, 'verify-compliant');
    expect(compliant.problems).toEqual([]);
    const status = compliant.page.locator('.summary');
    expect(await status.innerText()).toMatch(/^COMPLIANT: \d+ pass, 0 fail, [1-9]\d* warn\. [1-9]\d* warnings?$/);
    expect(await status.getAttribute('class')).toBe('summary ok');
    expect(await compliant.page.evaluate("getComputedStyle(document.querySelector('.summary')).borderLeftColor")).toBe('rgb(26, 127, 55)');
    // Failing groups are gone; warnings are collapsed groups, so the page does not open with 40 WARN rows.
    expect(await compliant.page.locator('#findings .badge:text-matches("^FAIL")').count()).toBe(0);
    const sinceNow = compliant.page.locator('#since');
    expect(await sinceNow.innerText()).toMatch(/Compared with the verify of 2026-/);
    expect(await sinceNow.locator('h3', { hasText: /^Senders: \d+ new, \d+ gone, [1-9]\d* changed$/ }).count()).toBe(1);
    expect(await sinceNow.innerText()).toMatch(/SMTP AUTH on\s+\S+, SMTP AUTH off/);
    await layoutChecks(compliant.page, 'verify-compliant');
    await compliant.page.close();
  });

  it('usage playbook: plan and verify pages read at both widths, with the chart and tiles', async () => {
    for (const command of ['plan', 'verify']) {
      const r = await runCli([command, 'smtp-auth-usage.yaml', ...w.target, '--format', 'html'], w.dir, env);
      expect([0, 2], r.stderr).toContain(r.code);
      const { page, problems, requests } = await open(r.stdout, `usage-${command}`);
      expect(problems).toEqual([]);
      expect(requests).toEqual([]);
      expect(await page.locator('h1').innerText()).toBe(`${command === 'plan' ? 'Plan' : 'Verify'}: smtp-auth-usage`);
      expect(await page.locator('.tile').count()).toBe(6);
      expect(await page.locator('svg rect.sender').count()).toBeGreaterThan(0);
      await layoutChecks(page, `usage-${command}`);
      await page.close();
    }
  });

  it('--compare with a file that is not a result: exit 1 before the tenant is read, naming the file', async () => {
    writeFileSync(join(w.dir, 'not-a-result.json'), '{"hello": 1}\n');
    const r = await runCli(['verify', 'smtp-auth-disable.yaml', ...w.target, '--format', 'html', '--compare', 'not-a-result.json'], w.dir, env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('not-a-result.json');
    expect(r.stderr).toMatch(/not an exo-playbook --format json result/);
    // Another format: refused, not silently ignored.
    const text = await runCli(['verify', 'smtp-auth-disable.yaml', ...w.target, '--compare', 'verify-before.json'], w.dir, env);
    expect(text.code).toBe(1);
    expect(text.stderr).toContain('--compare is for --format html');
  });

  it('escapes hostile values: a display name cannot inject markup', async () => {
    const { renderPlanHtml } = await import('../../src/report/html.js');
    const html = renderPlanHtml({
      formatVersion: 1,
      kind: 'plan',
      playbook: { name: '<img src=x onerror=alert(1)>', file: 'p.yaml', hash: 'h' },
      tenant: { organization: 'contoso.onmicrosoft.com', target: 'exchange' },
      createdAt: '2026-11-23T10:00:00.000Z',
      fingerprint: 'f',
      steps: [{ stepId: 'usage', uses: 'smtp-auth/usage', changes: [], inDesiredState: [], notes: [], risks: [], tables: [{ title: 'SMTP AUTH usage', columns: ['Sender', 'Protocol', 'Messages', 'Last seen'], rows: [['<script>alert(1)</script>@x', 'Basic', 3, null]] }] }],
      risks: [],
      summary: { changes: 0, inDesiredState: 0, blockingRisks: 0 },
    });
    const { page, problems } = await open(html, 'hostile');
    expect(problems).toEqual([]);
    expect(await page.locator('img, body script:not(:last-of-type)').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(1);
    expect(await page.locator('h1').innerText()).toBe('Plan: <img src=x onerror=alert(1)>');
    expect(await page.locator('.summary').getAttribute('class')).toBe('summary ok');
    await page.close();
  });
});
