/**
 * The fleet report's formats on a real fleet result (a plan and an apply of simulated tenants, spread
 * to 1,000 tenants for the size limits): markdown under 60,000 characters at 1,000 tenants and saying
 * which tenant gave which exit code, junit one testsuite per tenant, csv one row per tenant and
 * sender, html self-contained (the only script allowed by its hash), text naming every tenant.
 */
import { createHash } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderFleet, renderFleetMarkdown } from '../../src/fleet/report.js';
import { finishResult, type FleetResult, type FleetTenantResult } from '../../src/fleet/result.js';
import { assertBuilt } from '../e2e/engine-support.js';
import { FleetWorkspace } from './fleet-support.js';

let w: FleetWorkspace;
let plan: FleetResult;
beforeAll(() => {
  assertBuilt();
  w = new FleetWorkspace({ tenants: 3, unguarded: [3] });
  const r = w.run(['fleet', 'plan', 'smtp-auth-fleet.yaml', '--inventory', 'inventory.yaml', '--format', 'json']);
  expect(r.code, r.stderr).toBe(2);
  plan = JSON.parse(r.stdout) as FleetResult;
});
afterAll(() => w?.cleanup());

/** The plan's tenants spread to n, each with its own id; every 50th fails to sign in. */
function spread(n: number): FleetResult {
  const tenants: FleetTenantResult[] = Array.from({ length: n }, (_, i) => {
    const source = plan.tenants[i % plan.tenants.length]!;
    const id = `t${String(i).padStart(4, '0')}-fabrikam-holdings-group.onmicrosoft.com`;
    if (i % 50 === 7) {
      const { plan: _p, ...rest } = source;
      void _p;
      return { ...rest, index: i, id, status: 'error', exitCode: 1, message: `Sign-in to ${id} failed (certificate, app-only): AADSTS700016: Application not found in the directory. Check tenant.auth` };
    }
    return { ...source, index: i, id };
  });
  return finishResult({ ...plan, tenants, selection: { ids: tenants.map((t) => t.id) } });
}

describe('fleet report formats', () => {
  it('markdown of 1,000 tenants stays under 60,000 characters, totals first, problems named', () => {
    const big = spread(1000);
    const md = renderFleetMarkdown(big, 60_000);
    expect(md.length).toBeLessThan(60_000);
    expect(md).toContain('**1000 tenant(s)** · SIMULATED · exit **1**');
    expect(md).toMatch(/\| error \| 20 \|/);
    expect(md).toContain('exit 1: t0007-fabrikam-holdings-group.onmicrosoft.com, t0057-');
    expect(md).toMatch(/… and \d+ more tenant\(s\)/);
    expect(md).toContain('### Problems');
    expect(md).toContain('- **t0007-fabrikam-holdings-group.onmicrosoft.com** (exit 1): Sign-in to');
  });

  it('text lists every tenant with its status and exit code, the worst code and who gave it', () => {
    const text = renderFleet(plan, 'text');
    for (const t of plan.tenants) expect(text).toMatch(new RegExp(`${t.id}\\s+changes\\s+2\\s+`));
    expect(text).toContain("Exit 2 (the worst of the tenants'): exit 2: 3 tenant(s)");
    expect(text).toMatch(/Blocking risks \(apply would refuse these tenants\):\n {2}tenant03-contoso\.onmicrosoft\.com: /);
  });

  it('junit: one testsuite per tenant', () => {
    const big = spread(60);
    const xml = new XMLParser({ ignoreAttributes: false }).parse(renderFleet(big, 'junit')) as { testsuites: { testsuite: { '@_name': string; '@_errors': string }[] } };
    expect(xml.testsuites.testsuite).toHaveLength(60);
    expect(xml.testsuites.testsuite[7]!['@_name']).toBe('plan: t0007-fabrikam-holdings-group.onmicrosoft.com');
    expect(xml.testsuites.testsuite[7]!['@_errors']).toBe('1');
  });

  it('csv: one row per tenant and sender, a tenant without senders still has its row', () => {
    const csv = renderFleet(plan, 'csv').replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(csv[0]).toMatch(/^tenant,tenant name,status,exit,/);
    for (const t of plan.tenants) {
      const rows = csv.filter((line) => line.startsWith(`${t.id},`));
      const senders = (t.plan!.steps.find((s) => s.stepId === 'usage')?.data?.dossier as unknown[] | undefined)?.length ?? 0;
      expect(rows.length).toBe(Math.max(1, senders));
    }
    const failed = spread(10).tenants[7]!;
    const line = renderFleet(spread(10), 'csv').split('\r\n').find((l) => l.startsWith(`${failed.id},`))!;
    expect(line).toMatch(/,error,1,+$/);
  });

  it('html: self-contained, the one inline script allowed by its hash, a row and a detail per tenant', () => {
    const html = renderFleet(spread(40), 'html');
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const csp = /script-src 'sha256-([^']+)'/.exec(html)![1];
    expect(createHash('sha256').update(script).digest('base64')).toBe(csp);
    expect(html).not.toMatch(/<(link|img|iframe|object|embed)\b|<script[^>]+src=/);
    expect(html.match(/<tr data-status=/g)).toHaveLength(40);
    expect(html.match(/<details id="t\d+">/g)).toHaveLength(40);
    expect(html).toContain('<input id="filter" type="search"');
    expect(html).toContain('<th data-sort="number">exit</th>');
  });
});
