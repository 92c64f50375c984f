/**
 * The fleet's `--format html` in headless Chromium (Debian's /usr/bin/chromium; .ci/run installs it;
 * skipped without it, except under CI): the page's one inline script runs under its own
 * Content-Security-Policy (allowed by hash: no console error, no request), the tenant table filters by
 * text and by status and sorts by a column, and a tenant's detail opens from its row.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt } from '../e2e/engine-support.js';
import { FleetWorkspace, tenantId } from './fleet-support.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI === 'true') throw new Error('chromium is missing: apt-get install chromium (.ci/run does)');

let w: FleetWorkspace;
let profile: string;
let browser: BrowserContext;
let html: string;

beforeAll(async () => {
  assertBuilt();
  w = new FleetWorkspace({ tenants: 4, unguarded: [3] });
  // Tenant 2 signs in to a tenant the simulated service does not know by that name: an error row.
  writeFileSync(w.inventory, readFileSync(w.inventory, 'utf8').replace(`  - id: ${tenantId(2)}\n`, '  - id: ghost-contoso.onmicrosoft.com\n'));
  const r = w.run(['fleet', 'plan', 'smtp-auth-fleet.yaml', '--inventory', 'inventory.yaml', '--format', 'html']);
  expect(r.code).toBe(1);
  html = r.stdout;
  if (!hasChromium) return;
  profile = mkdtempSync(join(tmpdir(), 'exo-chromium-profile-'));
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
  if (profile) rmSync(profile, { recursive: true, force: true });
  w?.cleanup();
});

const visibleTenants = (page: Page) => page.$$eval('#tenants tbody tr', (rows) => rows.filter((r) => !(r as unknown as { hidden: boolean }).hidden).map((r) => r.cells[1]!.textContent));

describe.runIf(hasChromium)('fleet HTML report in headless Chromium', () => {
  it('runs its script under its CSP, filters, sorts, and opens a tenant\'s detail', async () => {
    const file = join(w.dir, 'fleet.html');
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
    expect(await visibleTenants(page)).toEqual([tenantId(1), 'ghost-contoso.onmicrosoft.com', tenantId(3), tenantId(4)]);

    await page.fill('#filter', 'ghost');
    expect(await visibleTenants(page)).toEqual(['ghost-contoso.onmicrosoft.com']);
    await page.fill('#filter', '');
    await page.selectOption('#status', 'error');
    expect(await visibleTenants(page)).toEqual(['ghost-contoso.onmicrosoft.com']);
    await page.selectOption('#status', '');

    // Sort by exit code (numerically): the first click ascending, the second descending.
    await page.click('#tenants th:nth-child(6)');
    const ascending = await page.$$eval('#tenants tbody tr td:nth-child(6)', (cells) => cells.map((c) => Number(c.textContent)));
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
    await page.click('#tenants th:nth-child(6)');
    const descending = await page.$$eval('#tenants tbody tr td:nth-child(6)', (cells) => cells.map((c) => Number(c.textContent)));
    expect(descending).toEqual([...descending].sort((a, b) => b - a));

    // A tenant's detail is a click away.
    await page.click(`#tenants a[href="#t2"]`);
    await page.click('#t2 > summary');
    expect(await page.$eval('#t2', (d) => (d as unknown as { open: boolean }).open)).toBe(true);
    expect(await page.$eval('#t2 pre', (p) => p.textContent)).toContain('Plan: smtp-auth-fleet');

    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
  });
});
