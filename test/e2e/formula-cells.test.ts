/**
 * Issue 24, point 5, through the built CLI: a usage CSV whose sender cell is a spreadsheet formula
 * stops the plan at that cell (exit 1, file:line:col), reading nothing into the plan; the usage files
 * `sim export-usage` writes neutralise such a cell with a leading '.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, driftedTenant, ROOT, withUsageStep, workspace, type Workspace } from './smtp-auth-support.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'formula-cells');

let ws: Workspace | undefined;
afterEach(() => ws?.cleanup());

describe('formula cells (built CLI)', () => {
  it.each([
    ['report', 'clients-report-formula.csv', /clients-report-formula\.csv:4:1: '=cmd\|calc!A0@x\.com' starts like a spreadsheet formula/],
    ['requestReport', 'request-report-formula.csv', /request-report-formula\.csv:3:22: '\+cmd\|calc!A0' starts like a spreadsheet formula/],
  ])('plan refuses a %s whose sender cell is a formula, at its cell (exit 1)', async (key, name, where) => {
    ws = workspace();
    copyFileSync(join(FIXTURES, name), ws.file(name));
    writeFileSync(ws.playbook, withUsageStep(readFileSync(ws.playbook, 'utf8'), `{ ${key}: ${name} }`));
    const plan = await cli(['plan', ws.playbook, '--target', `sim:${ws.state}`]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(1);
    expect(plan.stderr).toMatch(where);
    expect(plan.stderr).not.toContain('internal error');
  });

  it('sim export-usage writes a formula-like sender with a leading quote', async () => {
    ws = workspace({ tenant: { ...driftedTenant(), smtpAuthActivity: [{ sender: '=cmd|calc!A0@x.com', protocol: 'Basic', messages: 3, lastSeen: '2026-11-22T10:00:00.000Z' }] } });
    const r = await cli(['sim', 'export-usage', ws.state, '--kind', 'clients-report', '--out', ws.file('out.csv')]);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(ws.file('out.csv'), 'utf8');
    expect(text).toContain("\r\n'=cmd|calc!A0@x.com,");
  });
});
