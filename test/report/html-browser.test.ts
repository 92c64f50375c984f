/**
 * `--format html` in a real headless browser: Debian's Chromium (/usr/bin/chromium; .ci/run installs
 * it) driven by playwright-core with a fresh profile and no network services. The plan and the verify
 * reports of a simulated tenant render without a console error or any request beyond the file itself,
 * show the key text and the usage chart (inline SVG), and a screenshot of the expected size is taken.
 * Printing yields a PDF.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportWorkspace, runCli, type ReportWorkspace } from '../support/report-workspace.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI === 'true') throw new Error('chromium is missing: apt-get install chromium (.ci/run does)');

let w: ReportWorkspace;
let profile: string;
let shots: string;
let browser: BrowserContext;

beforeAll(async () => {
  w = await reportWorkspace(400, 'html-browser');
  if (!hasChromium) return;
  profile = mkdtempSync(join(tmpdir(), 'exo-chromium-profile-'));
  shots = mkdtempSync(join(tmpdir(), 'exo-html-shots-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    offline: true,
  });
});

afterAll(async () => {
  await browser?.close();
  for (const dir of [profile, shots]) if (dir) rmSync(dir, { recursive: true, force: true });
  w?.cleanup();
});

/** Width and height from a PNG's IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const png = readFileSync(file);
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

async function open(html: string, name: string) {
  const file = join(w.dir, `${name}.html`);
  writeFileSync(file, html);
  const page = await browser.newPage();
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
  const shot = join(shots, `${name}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  return { page, problems, requests, shot };
}

describe.runIf(hasChromium)('HTML report in headless Chromium', () => {
  it('plan: renders with no console error and no request, with the summary, the usage table and the senders chart', async () => {
    const r = await runCli(['plan', 'smtp-auth-disable.yaml', ...w.target, '--format', 'html'], w.dir);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toMatch(/^<!DOCTYPE html>/);
    // Self-contained: nothing is loaded from anywhere.
    expect(r.stdout).not.toMatch(/<script|<link|@import|url\(|src=/i);
    const { page, problems, requests, shot } = await open(r.stdout, 'plan');
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    expect(await page.locator('h1').innerText()).toBe('Plan: smtp-auth-disable');
    expect(await page.locator('.summary').innerText()).toMatch(/\d+ changes, \d+ already as desired, \d+ blocking risks?\./);
    const csv = readFileSync(join(w.dir, 'smtp-auth-clients-report.csv'), 'utf8').replace(/^\uFEFF/, '').split('\r\n');
    const firstSender = csv[1]!.split(',')[0]!;
    expect(await page.locator('table:has(th:text-is("Last seen"))').innerText()).toContain(firstSender);
    // The chart: one bar per sender (up to 20) coloured by protocol, a legend, a caption with totals.
    const bars = await page.locator('svg rect.sender').count();
    expect(bars).toBeGreaterThanOrEqual(5);
    expect(bars).toBeLessThanOrEqual(20);
    expect(await page.locator('figcaption').innerText()).toMatch(/SMTP AUTH senders by protocol and messages: Basic \d+, OAuth \d+ message/);
    const box = await page.locator('svg').boundingBox();
    expect(box!.width).toBeGreaterThan(600);
    const size = pngSize(shot);
    expect(size.width).toBe(1280);
    expect(size.height).toBeGreaterThan(900);
    // Printed: a PDF with the same text, black on white.
    await page.emulateMedia({ media: 'print' });
    // Evaluated in the page (a string: this file is compiled without the DOM types).
    expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(255, 255, 255)');
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    await page.close();
  });

  it('verify: renders the result and its findings, failures first', async () => {
    const r = await runCli(['verify', 'smtp-auth-disable.yaml', ...w.target, '--format', 'html'], w.dir);
    expect(r.code, r.stderr).toBe(2);
    const { page, problems, requests, shot } = await open(r.stdout, 'verify');
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    expect(await page.locator('.summary').innerText()).toMatch(/^DRIFT: \d+ pass, [1-9]\d* fail, \d+ warn\.$/);
    expect(await page.locator('h2:text-is("Findings") + table tbody tr').first().locator('td').first().innerText()).toBe('FAIL');
    // The usage dossier with its chart of senders by protocol and messages, as on the plan page.
    expect(await page.locator('figure svg rect.sender').count()).toBeGreaterThan(0);
    expect(await page.locator('figcaption').innerText()).toMatch(/SMTP AUTH senders by protocol and messages/);
    expect(pngSize(shot).width).toBe(1280);
    await page.close();
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
    expect(await page.locator('img, script').count()).toBe(0);
    expect(await page.locator('h1').innerText()).toBe('Plan: <img src=x onerror=alert(1)>');
    await page.close();
  });
});
