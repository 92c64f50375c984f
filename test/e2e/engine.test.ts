/**
 * The engine end to end: the built CLI against a simulated tenant, with no TTY.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../src/engine/types.js';
import { lockPath } from '../../src/engine/lock.js';
import { assertBuilt, driftedTenant, EngineWorkspace, sim } from './engine-support.js';

// eslint-disable-next-line no-control-regex -- the escape character is exactly what must not appear
const ANSI = /\u001b\[/;
let workspaces: EngineWorkspace[] = [];
const ws = (tenant = driftedTenant()) => {
  const w = new EngineWorkspace(tenant);
  workspaces.push(w);
  return w;
};

// Each test spawns the CLI several times; on a loaded 2-core machine that can take a while.
beforeAll(assertBuilt);
afterEach(() => {
  workspaces.forEach((w) => w.cleanup());
  workspaces = [];
});

function journalRecords(runDir: string): { type: string; changeId?: string; outcome?: string }[] {
  return readFileSync(join(runDir, 'journal.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

function onlyRunDir(w: EngineWorkspace, suffix = ''): string {
  const dirs = readdirSync(w.runsDir).filter((d) => d.endsWith(`smtp-auth-disable${suffix}`));
  expect(dirs).toHaveLength(1);
  return join(w.runsDir, dirs[0]!);
}

describe('plan → apply → verify on a drifted tenant', () => {
  it('exits 2, 0, 0; the state changes exactly as the plan said; a second apply makes no Set call', () => {
    const w = ws();
    const before = w.readState();

    const plan = w.run(['plan', 'playbook.yaml', ...sim(w), '--out', 'plan.json']);
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout.split('\n')[0]).toBe('Change: CHG0042');
    expect(plan.stdout).toContain('Organization  SmtpClientAuthenticationDisabled  $false -> $true');
    const saved = JSON.parse(readFileSync(join(w.dir, 'plan.json'), 'utf8')) as PlanDocument;
    const changes = saved.steps.flatMap((s) => s.changes);
    expect(changes.length).toBe(6); // org, device $null→$false, 4 strays $false→$null
    expect(w.calls().filter((c) => /^(Set|Start|Stop)-/.test(c.cmdlet))).toEqual([]); // plan is read-only

    const apply = w.run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    expect(apply.code, apply.stderr).toBe(0);

    // Exactly the planned changes, nothing else.
    const after = w.readState();
    const expected = structuredClone(before);
    for (const change of changes) {
      if (change.target === 'Organization') expected.transportConfig.SmtpClientAuthenticationDisabled = change.after as boolean;
      else expected.mailboxes.find((m) => m.PrimarySmtpAddress === change.target)!.SmtpClientAuthenticationDisabled = change.after as boolean | null;
    }
    expect(after.transportConfig).toEqual(expected.transportConfig);
    expect(after.mailboxes).toEqual(expected.mailboxes);

    const runDir = onlyRunDir(w);
    expect(existsSync(join(runDir, 'plan.json'))).toBe(true);
    expect(readFileSync(join(runDir, 'summary.md'), 'utf8')).toContain('6 applied, 0 failed, 0 skipped');
    const records = journalRecords(runDir);
    expect(records.filter((r) => r.type === 'before')).toHaveLength(6);
    expect(records.filter((r) => r.type === 'after' && r.outcome === 'applied')).toHaveLength(6);

    const verify = w.run(['verify', 'playbook.yaml', ...sim(w)]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toContain('COMPLIANT');

    w.clearCalls();
    const again = w.run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect(w.calls().length).toBeGreaterThan(0);
    expect(w.calls().filter((c) => c.cmdlet.startsWith('Set-'))).toEqual([]);
    expect(again.stdout).toContain('Write calls: 0');
  });
});

describe('a saved plan', () => {
  it('is refused (exit 4) after the tenant changed, and nothing is written', () => {
    const w = ws();
    expect(w.run(['plan', 'playbook.yaml', ...sim(w), '--out', 'plan.json']).code).toBe(2);
    const changed = w.readState();
    changed.mailboxes.find((m) => m.Name === 'bob')!.SmtpClientAuthenticationDisabled = false;
    w.writeState(changed);
    w.clearCalls();

    const apply = w.run(['apply', 'playbook.yaml', ...sim(w), '--plan', 'plan.json', '--runs-dir', 'runs']);
    expect(apply.code).toBe(4);
    expect(apply.stderr).toMatch(/tenant changed since the plan/);
    expect(apply.stderr).toMatch(/step "allow"/);
    expect(w.calls().filter((c) => c.cmdlet.startsWith('Set-'))).toEqual([]);
    expect(w.readState()).toEqual(changed);
  });

  it('is refused (exit 4) after the playbook changed', () => {
    const w = ws();
    expect(w.run(['plan', 'playbook.yaml', ...sim(w), '--out', 'plan.json']).code).toBe(2);
    writeFileSync(w.playbook, readFileSync(w.playbook, 'utf8').replace('CHG0042', 'CHG0043'));
    const apply = w.run(['apply', 'playbook.yaml', ...sim(w), '--plan', 'plan.json', '--runs-dir', 'runs']);
    expect(apply.code).toBe(4);
    expect(apply.stderr).toMatch(/playbook .*changed since the plan/);
  });

  it('applies without --yes when unchanged (the saved plan is the approval)', () => {
    const w = ws();
    expect(w.run(['plan', 'playbook.yaml', ...sim(w), '--out', 'plan.json']).code).toBe(2);
    const apply = w.run(['apply', 'playbook.yaml', ...sim(w), '--plan', 'plan.json', '--runs-dir', 'runs']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(w.readState().transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
  });
});

describe('confirmation without a TTY', () => {
  it('refuses without --yes (exit 4, nothing written); with --yes runs with plain output, no ANSI', () => {
    const w = ws();
    const before = w.readState();
    const refused = w.run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/--yes/);
    expect(w.readState()).toEqual(before);

    const yes = w.run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    expect(yes.code, yes.stderr).toBe(0);
    expect(yes.stdout).not.toMatch(ANSI);
    expect(yes.stderr).not.toMatch(ANSI);
    // Line-per-event progress on stderr.
    expect(yes.stderr).toMatch(/change-end +stray01@contoso.com SmtpClientAuthenticationDisabled: applied/);
  });

  it('--format json prints only the report on stdout (progress lines go to stderr)', () => {
    const w = ws();
    const r = w.run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.summary).toEqual({ applied: 6, failed: 0, skipped: 0 });
    expect(report.verify.compliant).toBe(true);
    expect(r.stderr.split('\n').filter(Boolean).every((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z \S/.test(l))).toBe(true);
  });
});

describe('verify --format junit', () => {
  it('writes XML a JUnit parser accepts, one testsuite per step, failures for drift (exit 2)', () => {
    const w = ws();
    const r = w.run(['verify', 'playbook.yaml', ...sim(w), '--format', 'junit']);
    expect(r.code, r.stderr).toBe(2);
    expect(XMLValidator.validate(r.stdout)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === 'testsuite' || name === 'testcase' }).parse(r.stdout);
    const suites = doc.testsuites.testsuite as { '@_name': string; '@_failures': string; testcase: unknown[] }[];
    // The org step's organization-off is the verify step's to say (each fact once): no org suite.
    expect(suites.map((s) => s['@_name'])).toEqual(['smtp-auth-disable.allow', 'smtp-auth-disable.verify']);
    expect(Number(doc.testsuites['@_failures'])).toBeGreaterThan(0);
    // device is $null: on today only because the organization is; the allowlist wants $false.
    expect(Number(suites[0]!['@_failures'])).toBe(1);
    expect(r.stdout).toMatch(/<testcase[^>]*name="[^"]*organization-off[^"]*"[^>]*classname="smtp-auth-disable\.verify"|classname="smtp-auth-disable\.verify"[^>]*name="[^"]*organization-off/);
  });
});

describe('throttling and concurrency', () => {
  it('retries throttled calls and still reaches exactly the planned state with --concurrency 3', () => {
    const expectedState = (() => {
      const w = ws(driftedTenant(10));
      expect(w.run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']).code).toBe(0);
      return w.readState();
    })();
    const tenant = driftedTenant(10);
    tenant.faults = { throttleEveryN: 4, transientEveryN: 7 };
    const w = ws(tenant);
    const r = w.run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes', '--concurrency', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/retry +.*throttled/);
    expect(w.readState().mailboxes).toEqual(expectedState.mailboxes);
    expect(w.readState().transportConfig).toEqual(expectedState.transportConfig);
  });

  it('rejects --concurrency above 3 (exit 1)', () => {
    const w = ws();
    const r = w.run(['apply', 'playbook.yaml', ...sim(w), '--yes', '--concurrency', '4']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--concurrency must be a whole number from 1 to 3/);
  });
});

describe('blocking risks (the lockout guard)', () => {
  it('refuse apply (exit 4) naming the senders; --accept-breakage lets them through', () => {
    const w = ws();
    writeFileSync(
      join(w.dir, 'usage.csv'),
      'Sender address,Domain,TLS 1.0 %,TLS 1.1 %,TLS 1.2 %,Messages sent,Authentication protocol\r\n' +
        'alice@contoso.com,contoso.com,0,0,100,24,Basic Authentication\r\n' +
        'device@contoso.com,contoso.com,0,0,100,99,Basic Authentication\r\n',
    );
    writeFileSync(w.playbook, readFileSync(w.playbook, 'utf8').replace('steps:\n', 'steps:\n  - id: usage\n    uses: smtp-auth/usage\n    with: { report: usage.csv }\n'));
    const before = w.readState();
    const refused = w.run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    expect(refused.code, refused.stderr).toBe(4);
    expect(refused.stderr).toContain('alice@contoso.com');
    expect(refused.stderr).not.toContain('device@contoso.com:');
    expect(w.readState()).toEqual(before);

    const accepted = w.run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes', '--accept-breakage', 'alice@contoso.com']);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(w.readState().transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
  });
});

describe('the tenant lock', () => {
  it('refuses (exit 4) while another live process holds it, naming host, pid and start time', () => {
    const w = ws();
    const path = lockPath(w.lockDir, 'contoso.onmicrosoft.com', `sim:${w.state}`);
    const holder = { host: hostname(), pid: process.pid, startedAt: '2026-11-23T10:15:00.000Z', command: 'apply smtp-auth-disable', organization: 'contoso.onmicrosoft.com', target: `sim:${w.state}`, token: 'x' };
    mkdirSync(w.lockDir, { recursive: true });
    writeFileSync(path, JSON.stringify(holder));
    const r = w.run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`pid ${process.pid}`);
    expect(r.stderr).toContain('2026-11-23T10:15:00.000Z');
    expect(r.stderr).toContain(hostname());

    // A lock from a dead process on this host is taken over.
    writeFileSync(path, JSON.stringify({ ...holder, pid: 2 ** 22 + 12345 }));
    const ok = w.run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(existsSync(path)).toBe(false); // released at the end
  });
});
