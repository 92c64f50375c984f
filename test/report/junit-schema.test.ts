/**
 * `verify --format junit` validates against the common Ant/Jenkins JUnit schema
 * (test/fixtures/junit/jenkins-junit.xsd) with xmllint (Debian's libxml2-utils; .ci/run installs it),
 * for a real run with passes, failures and warnings, and for hostile text in findings.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderVerifyJunit } from '../../src/report/junit.js';
import { reportWorkspace, runCli, type ReportWorkspace } from '../support/report-workspace.js';

const XSD = resolve(import.meta.dirname, '..', 'fixtures', 'junit', 'jenkins-junit.xsd');
const hasXmllint = spawnSync('xmllint', ['--version']).error === undefined;
if (!hasXmllint && process.env.CI === 'true') throw new Error('xmllint is missing: install libxml2-utils (.ci/run does)');

function xmllint(xml: string): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'exo-junit-'));
  try {
    writeFileSync(join(dir, 'report.xml'), xml);
    const r = spawnSync('xmllint', ['--noout', '--schema', XSD, join(dir, 'report.xml')], { encoding: 'utf8' });
    return { status: r.status, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let w: ReportWorkspace;
beforeAll(async () => {
  w = await reportWorkspace(400, 'junit-schema');
});
afterAll(() => w?.cleanup());

describe.runIf(hasXmllint)('JUnit output against the Ant/Jenkins JUnit schema', () => {
  it('a real verify with failures and warnings validates; warnings are <skipped> with their message', async () => {
    const r = await runCli(['verify', 'smtp-auth-disable.yaml', ...w.target, '--format', 'junit'], w.dir);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toContain('<failure ');
    const warnings = (r.stdout.match(/<skipped message="WARN /g) ?? []).length;
    expect(warnings).toBeGreaterThan(0);
    const lint = xmllint(r.stdout);
    expect(lint.stderr).toContain('validates');
    expect(lint.status).toBe(0);
  });

  it('markup and control characters in findings still validate', () => {
    const xml = renderVerifyJunit({
      playbook: { name: 'p<&>', file: 'p.yaml', hash: 'h' },
      tenant: { organization: 'contoso.onmicrosoft.com', target: 'exchange' },
      checkedAt: '2026-11-23T10:00:00.000Z',
      findings: [
        { stepId: 's"1', check: 'c', status: 'warn', subject: ']]><x/>', message: 'a\u0001b' },
        { stepId: 's"1', check: 'c', status: 'fail', subject: "'", message: '<script>' },
      ],
      summary: { pass: 0, fail: 1, warn: 1 },
      compliant: false,
    });
    const lint = xmllint(xml);
    expect(lint.status, lint.stderr).toBe(0);
  });

  it('the schema rejects what a JUnit reader would not take (the check can fail)', () => {
    const lint = xmllint('<?xml version="1.0"?>\n<testsuites><testsuite tests="1"><testcase/></testsuite></testsuites>\n');
    expect(lint.status).not.toBe(0);
    expect(lint.stderr).toMatch(/name.*required|attribute 'name'/i);
  });
});
