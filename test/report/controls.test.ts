/**
 * Control ids: every check the source can emit has its own stable id, the docs table lists exactly
 * those, and every finding of a real verify carries its id in json, junit, markdown and html, with CIS
 * 6.5.4 and CISA MS.EXO.5.1v1 on the organization switch.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_CONTROLS, controlOf } from '../../src/report/controls.js';
import { reportWorkspace, runCli, type ReportWorkspace } from '../support/report-workspace.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

let w: ReportWorkspace;
beforeAll(async () => {
  w = await reportWorkspace(200, 'controls');
});
afterAll(() => w?.cleanup());

describe('control ids', () => {
  it('every check literal in src has its own id, ids are unique, and docs/REVIEWING.md lists exactly them', () => {
    const checks = new Set<string>();
    for (const file of sources(join(ROOT, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/check: (?:desired \? )?'([a-z0-9-]+)'(?: : '([a-z0-9-]+)')?/g)) {
        checks.add(m[1]!);
        if (m[2]) checks.add(m[2]);
      }
    }
    expect(checks.size).toBeGreaterThan(15);
    expect([...checks].filter((c) => !Object.hasOwn(CHECK_CONTROLS, c))).toEqual([]);
    const ids = Object.values(CHECK_CONTROLS).map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    const doc = readFileSync(join(ROOT, 'docs', 'REVIEWING.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| (EXOPB-[A-Z0-9-]+) \| ([a-z0-9-]+) \|/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(Object.entries(CHECK_CONTROLS).map(([check, c]) => [c.id, check]));
    expect(controlOf('not-yet-listed')).toMatchObject({ id: 'EXOPB-X-NOT-YET-LISTED', references: [] });
  });

  it('a real verify carries the ids in json, junit, markdown and html', async () => {
    const json = await runCli(['verify', 'smtp-auth-disable.yaml', ...w.target, '--format', 'json'], w.dir);
    expect(json.code, json.stderr).toBe(2);
    const report = JSON.parse(json.stdout) as { findings: { check: string; controlId?: string; references?: { framework: string; id: string; title: string }[] }[] };
    expect(report.findings.length).toBeGreaterThan(5);
    for (const f of report.findings) expect(f.controlId, f.check).toBe(CHECK_CONTROLS[f.check]!.id);
    const org = report.findings.find((f) => f.check === 'organization-off')!;
    expect(org.controlId).toBe('EXOPB-SMTP-001');
    expect(org.references).toEqual([
      { framework: 'CIS Microsoft 365 Foundations Benchmark v4.0.0', id: '6.5.4', title: 'Ensure SMTP AUTH is disabled' },
      { framework: 'CISA SCuBA Exchange Online baseline', id: 'MS.EXO.5.1v1', title: 'SMTP AUTH SHALL be disabled' },
    ]);
    expect(report.findings.filter((f) => f.check !== 'organization-off').every((f) => f.references === undefined)).toBe(true);

    const junit = await runCli(['verify', 'smtp-auth-disable.yaml', ...w.target, '--format', 'junit'], w.dir);
    const names = [...junit.stdout.matchAll(/<testcase classname="[^"]*" name="([^"]*)"/g)].map((m) => m[1]!);
    expect(names).toHaveLength(report.findings.length);
    expect(names.every((n) => /^\[EXOPB-[A-Z0-9-]+/.test(n))).toBe(true);
    expect(names).toContain('[EXOPB-SMTP-001 · CIS 6.5.4 · CISA MS.EXO.5.1v1] organization-off: Organization');

    const md = await runCli(['verify', 'smtp-auth-disable.yaml', ...w.target, '--format', 'markdown'], w.dir);
    expect(md.stdout).toContain('| Status | Step | Check | Control | Subject | Detail |');
    expect(md.stdout).toMatch(/\| organization-off \| EXOPB-SMTP-001 · CIS 6\.5\.4 · CISA MS\.EXO\.5\.1v1 \| Organization \|/);

    const html = await runCli(['verify', 'smtp-auth-disable.yaml', ...w.target, '--format', 'html'], w.dir);
    const rows = [...html.stdout.matchAll(/<tr class="finding[^"]*"[^>]*>([\s\S]*?)<\/tr>/g)].map((m) => m[1]!);
    expect(rows).toHaveLength(report.findings.length);
    expect(rows.every((r) => /EXOPB-[A-Z0-9-]+/.test(r))).toBe(true);
    expect(html.stdout).toContain('CIS 6.5.4');
    expect(html.stdout).toContain('CISA MS.EXO.5.1v1');
  });
});
