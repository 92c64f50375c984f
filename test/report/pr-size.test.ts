/**
 * Markdown for a pull request fits in one comment (GitHub: 65,536 characters) whatever the tenant
 * size: a 50,000-mailbox simulated tenant's plan and verify stay under 60,000, keep the counts, show
 * the first rows and point to the full report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PR_MARKDOWN_BUDGET } from '../../src/report/markdown.js';
import { reportWorkspace, runCli, type ReportWorkspace } from '../support/report-workspace.js';

let w: ReportWorkspace;
beforeAll(async () => {
  w = await reportWorkspace(50_000, 'pr-size');
});
afterAll(() => w?.cleanup());

describe('markdown for a pull request, 50,000 mailboxes', () => {
  it('the plan is under 60,000 characters, with the counts, the first rows and a pointer to the full report', async () => {
    const json = await runCli(['plan', 'smtp-auth-disable.yaml', ...w.target, '--format', 'json'], w.dir);
    expect(json.code, json.stderr).toBe(2);
    const plan = JSON.parse(json.stdout) as { summary: { changes: number; blockingRisks: number }; steps: { stepId: string; changes: { target: string }[] }[] };
    // The tenant is big enough for the test to mean something: a full table would be far over.
    expect(plan.summary.changes).toBeGreaterThan(900);

    const md = await runCli(['plan', 'smtp-auth-disable.yaml', ...w.target, '--format', 'markdown'], w.dir);
    expect(md.code, md.stderr).toBe(2);
    expect(md.stdout.length).toBeLessThan(PR_MARKDOWN_BUDGET);
    expect(md.stdout).toContain(`**${plan.summary.changes} changes**`);
    expect(md.stdout).toContain(`${plan.summary.blockingRisks} blocking risks`);
    const allow = plan.steps.find((s) => s.stepId === 'allow')!;
    expect(md.stdout).toContain(`| ${allow.changes[0]!.target} |`);
    expect(md.stdout).not.toContain(`| ${allow.changes.at(-1)!.target} |`);
    expect(md.stdout).toMatch(/… and \d+ more not shown here: see the full report/);
    // Every <details> the renderer opened is closed.
    expect(md.stdout.split('<details>').length).toBe(md.stdout.split('</details>').length);
  });

  it('--max-chars sets a smaller budget (two sections in one comment)', async () => {
    const md = await runCli(['plan', 'smtp-auth-disable.yaml', ...w.target, '--format', 'markdown', '--max-chars', '20000'], w.dir);
    expect(md.code, md.stderr).toBe(2);
    expect(md.stdout.length).toBeLessThanOrEqual(20_000);
    expect(md.stdout).toContain('## Plan: smtp-auth-disable');
  });

  it('verify is under 60,000 characters too, failures first', async () => {
    const md = await runCli(['verify', 'smtp-auth-disable.yaml', ...w.target, '--format', 'markdown'], w.dir);
    expect(md.code, md.stderr).toBe(2);
    expect(md.stdout.length).toBeLessThan(PR_MARKDOWN_BUDGET);
    expect(md.stdout).toContain('**Drift found**');
    expect(md.stdout).toContain('❌ fail');
  });
});
