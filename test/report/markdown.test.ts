import { describe, expect, it } from 'vitest';
import type { Change, StepPlan } from '../../src/actions/types.js';
import type { ApplyReport, PlanDocument, VerifyReport } from '../../src/engine/types.js';
import type { DiffReport } from '../../src/diff/types.js';
import { escapeMarkdown, renderApplyMarkdown, renderDiffMarkdown, renderPlanMarkdown, renderVerifyMarkdown } from '../../src/report/markdown.js';

function change(target: string, after: boolean | null = null): Change {
  return {
    id: `allow:${target}:SmtpClientAuthenticationDisabled`,
    stepId: 'allow',
    target,
    property: 'SmtpClientAuthenticationDisabled',
    before: false,
    after,
    reason: 'not on the allowlist',
    call: { cmdlet: 'Set-CASMailbox', parameters: { Identity: target, SmtpClientAuthenticationDisabled: after } },
    undo: null,
  };
}

function plan(steps: StepPlan[]): PlanDocument {
  const changes = steps.reduce((n, s) => n + s.changes.length, 0);
  return {
    formatVersion: 1,
    kind: 'plan',
    playbook: { name: 'smtp-auth-disable', file: 'playbooks/smtp-auth-disable.yaml', hash: 'a'.repeat(64), change: 'CHG0042' },
    tenant: { organization: 'contoso.onmicrosoft.com', target: 'exchange' },
    createdAt: '2026-11-23T10:00:00.000Z',
    fingerprint: 'f'.repeat(64),
    steps,
    risks: [],
    summary: { changes, inDesiredState: 1, blockingRisks: 0 },
  };
}

/** Table rows of a markdown text: lines that start with `|`, excluding header separators. */
function rows(md: string): string[] {
  return md.split('\n').filter((l) => l.startsWith('|') && !/^\| ---/.test(l));
}

describe('markdown reports', () => {
  it('a plan names the change, the tenant and the counts, one row per change', () => {
    const md = renderPlanMarkdown(
      plan([{ stepId: 'allow', uses: 'smtp-auth/allowlist', changes: [change('a@contoso.com'), change('b@contoso.com')], inDesiredState: ['device@contoso.com is already $false'], notes: [], risks: [] }]),
    );
    expect(md).toContain('| Change | CHG0042 |');
    expect(md).toContain('| Tenant | contoso.onmicrosoft.com (exchange) |');
    expect(md).toContain('**2 changes**, 1 already in the desired state, 0 blocking risks.');
    expect(md).toContain('| a@contoso.com | SmtpClientAuthenticationDisabled | $false | $null | not on the allowlist |');
    expect(md).not.toContain('<details>');
  });

  it('collapses a list of more than 10 items into <details>', () => {
    const many = Array.from({ length: 11 }, (_, i) => change(`stray${i}@contoso.com`));
    const md = renderPlanMarkdown(plan([{ stepId: 'allow', uses: 'smtp-auth/allowlist', changes: many, inDesiredState: [], notes: [], risks: [] }]));
    expect(md).toContain('<details><summary>11 changes</summary>');
    expect(md).toContain('</details>');
    expect(rows(md).filter((r) => r.includes('stray'))).toHaveLength(11);
  });

  it('escapes | and newlines so a hostile value cannot break or inject into the table', () => {
    const hostile = change('x|y@contoso.com');
    hostile.reason = 'line one\nline two <script>alert(1)</script>';
    const md = renderPlanMarkdown(plan([{ stepId: 'allow', uses: 'smtp-auth/allowlist', changes: [hostile], inDesiredState: [], notes: [], risks: [] }]));
    const row = rows(md).find((r) => r.includes('x\\|y'))!;
    expect(row).toBeDefined();
    // Same number of unescaped cell separators as the header: 5 columns → 6 pipes.
    expect(row.replace(/\\\|/g, '').split('|')).toHaveLength(7);
    expect(row).toContain('line one<br>line two &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(md).not.toContain('<script>');
    expect(escapeMarkdown('a_b*c')).toBe('a\\_b\\*c');
  });

  it('verify lists failures first and says whether the tenant is compliant', () => {
    const report: VerifyReport = {
      playbook: { name: 'drift', file: 'd.yaml', hash: 'b'.repeat(64) },
      tenant: { organization: 'contoso.onmicrosoft.com', target: 'sim:t.json' },
      checkedAt: '2026-11-23T10:00:00.000Z',
      findings: [
        { stepId: 'verify', check: 'organization-off', status: 'pass', subject: 'Organization', message: 'off' },
        { stepId: 'verify', check: 'no-stray-overrides', status: 'fail', subject: 'stray@contoso.com', message: 'explicit $false' },
      ],
      summary: { pass: 1, fail: 1, warn: 0 },
      compliant: false,
    };
    const md = renderVerifyMarkdown(report);
    expect(md).toContain('**Drift found**: 1 pass, 1 fail, 0 warn.');
    const findingRows = rows(md).filter((r) => r.includes('verify'));
    expect(findingRows[0]).toContain('❌ fail');
    expect(md).toContain('| Change | (none) |');
  });

  it('apply shows the run directory, counts and each result with its error', () => {
    const p = plan([{ stepId: 'allow', uses: 'smtp-auth/allowlist', changes: [change('a@contoso.com')], inDesiredState: [], notes: [], risks: [] }]);
    const report: ApplyReport = {
      plan: p,
      runDir: 'runs/20261123T100000Z-smtp-auth-disable',
      results: [{ changeId: 'c', stepId: 'allow', target: 'a@contoso.com', property: 'SmtpClientAuthenticationDisabled', status: 'failed', before: false, after: null, error: 'Server Busy', attempts: 3, durationMs: 10, warnings: [] }],
      summary: { applied: 0, failed: 1, skipped: 0 },
      interrupted: false,
    };
    const md = renderApplyMarkdown(report);
    expect(md).toContain('**0 applied, 1 failed, 0 skipped**');
    expect(md).toContain('| Run directory | runs/20261123T100000Z-smtp-auth-disable |');
    expect(md).toContain('| failed | a@contoso.com | SmtpClientAuthenticationDisabled | $false | $null | 3 | Server Busy |');
  });

  it('a diff marks sensitive changes and lists the allowlist addresses', () => {
    const report: DiffReport = {
      formatVersion: 1,
      changed: true,
      sensitive: true,
      diffs: [
        {
          old: { file: 'p.yaml', label: 'HEAD~1', name: 'p', change: 'CHG1' },
          new: { file: 'p.yaml', label: 'working tree', name: 'p', change: 'CHG1' },
          changes: [
            { kind: 'setting-changed', path: 'tenant.organization', before: 'a.onmicrosoft.com', after: 'b.onmicrosoft.com', sensitive: true, message: 'tenant.organization: a → b' },
            { kind: 'allowlist-added', path: 'steps.allow.with.mailboxes', addresses: ['crm@contoso.com'], source: 'allowlist.txt', sensitive: false, message: 'added crm' },
          ],
        },
      ],
    };
    const md = renderDiffMarkdown(report);
    expect(md).toContain('**2 changes in 1 playbook** — includes sensitive changes.');
    expect(md).toContain('**⚠️ 1 sensitive change**');
    expect(md).toContain('|  | allowlist-added | steps.allow.with.mailboxes | crm@contoso.com | allowlist.txt | added crm |');
    expect(md).toContain('Change: CHG1');
  });
});

describe('step tables in markdown and text', () => {
  it('renders a step table as a markdown table, collapsed past ten rows, and aligned in text', async () => {
    const { renderPlanText } = await import('../../src/report/text.js');
    const rows = Array.from({ length: 12 }, (_, i) => [`s${i}@contoso.com`, i % 2 ? 'OAuth' : 'Basic', 100 - i, i === 11 ? null : '2026-11-20']);
    const plan = {
      formatVersion: 1 as const,
      kind: 'plan' as const,
      playbook: { name: 'p', file: 'p.yaml', hash: 'h' },
      tenant: { organization: 'contoso.onmicrosoft.com', target: 'exchange' },
      createdAt: '2026-11-23T10:00:00Z',
      fingerprint: 'f',
      steps: [
        {
          stepId: 'usage',
          uses: 'smtp-auth/usage',
          changes: [],
          inDesiredState: [],
          notes: ['#1 sender is a scanner'],
          risks: [],
          tables: [{ title: 'SMTP AUTH usage', columns: ['Sender', 'Protocol', 'Messages', 'Last seen'], rows }],
        },
      ],
      risks: [],
      summary: { changes: 0, inDesiredState: 0, blockingRisks: 0 },
    };
    const md = renderPlanMarkdown(plan);
    expect(md).toContain('<details><summary>SMTP AUTH usage (12 rows)</summary>');
    expect(md).toContain('| Sender | Protocol | Messages | Last seen |');
    expect(md).toContain('| s0@contoso.com | Basic | 100 | 2026-11-20 |');
    expect(md).toContain('| s11@contoso.com | OAuth | 89 | - |');
    // A note that starts like a heading stays a list item.
    expect(md).toContain('- \\#1 sender is a scanner');

    const text = renderPlanText(plan, { color: false, maxListed: 3 });
    expect(text).toContain('  SMTP AUTH usage:\n    Sender          Protocol  Messages  Last seen\n    s0@contoso.com  Basic     100       2026-11-20\n');
    expect(text).toContain('    ... and 9 more (--format json lists all)');
  });
});
