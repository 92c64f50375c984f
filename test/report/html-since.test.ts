/**
 * "Since the last run" and the texts said once per group, without a browser: the comparison of two
 * runs (new, gone and changed senders; new, resolved and changed findings), what --compare accepts,
 * the usage step's history: naming a new sender in the html page, and groupTexts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupTexts } from '../../src/report/html.js';
import { compareRuns, snapshotOfDocument, type RunSnapshot } from '../../src/report/html-since.js';
import { reportWorkspace, runCli, type ReportWorkspace } from '../support/report-workspace.js';

const sender = (address: string, protocols: string, smtpAuth: string, allowlisted = false) => ({ sender: address, protocols, smtpAuth, allowlisted, messages: 1 });

describe('compareRuns', () => {
  it('names new, gone and changed senders and new, resolved and changed findings', () => {
    const before: RunSnapshot = {
      at: '2026-12-01T00:00:00.000Z',
      kind: 'verify',
      senders: [sender('a@contoso.com', 'Basic', 'on'), sender('b@contoso.com', 'OAuth', 'on'), sender('gone@contoso.com', 'Basic', 'on')],
      items: [
        { check: 'organization-off', subject: 'Organization', status: 'fail' },
        { check: 'others-off', subject: 'x@contoso.com', status: 'fail' },
        { check: 'allowlisted-on', subject: 'b@contoso.com', status: 'pass' },
      ],
    };
    const now: RunSnapshot = {
      at: '2026-12-07T00:00:00.000Z',
      kind: 'verify',
      senders: [sender('A@contoso.com', 'Basic', 'off'), sender('b@contoso.com', 'OAuth', 'on'), sender('new@contoso.com', 'Basic', 'on')],
      items: [
        { check: 'organization-off', subject: 'Organization', status: 'pass' },
        { check: 'allowlisted-on', subject: 'b@contoso.com', status: 'fail' },
        { check: 'usage-new-sender', subject: 'new@contoso.com', status: 'fail' },
      ],
    };
    const since = compareRuns(before, now);
    expect(since.newSenders.map((s) => s.sender)).toEqual(['new@contoso.com']);
    expect(since.goneSenders.map((s) => s.sender)).toEqual(['gone@contoso.com']);
    expect(since.changedSenders).toEqual([{ sender: 'A@contoso.com', before: 'Basic, SMTP AUTH on', after: 'Basic, SMTP AUTH off' }]);
    expect(since.newItems).toEqual([{ check: 'usage-new-sender', subject: 'new@contoso.com', status: 'fail' }]);
    expect(since.resolvedItems).toEqual([{ check: 'others-off', subject: 'x@contoso.com', status: 'fail' }]);
    expect(since.changedItems).toEqual([
      { check: 'organization-off', subject: 'Organization', before: 'fail', after: 'pass' },
      { check: 'allowlisted-on', subject: 'b@contoso.com', before: 'pass', after: 'fail' },
    ]);
    expect(compareRuns({ ...before, senders: null }, now).sendersUnknown).toBe(true);
  });

  it('accepts the json of plan, verify and apply, and says why anything else is refused', () => {
    expect(snapshotOfDocument({ formatVersion: 1, kind: 'verify', checkedAt: 't', findings: [{ check: 'c', subject: 's', status: 'warn' }] })).toMatchObject({ kind: 'verify', senders: null, items: [{ check: 'c', subject: 's', status: 'warn' }] });
    const plan = { formatVersion: 1, kind: 'plan', createdAt: 't', steps: [{ risks: [{ kind: 'will-break', subject: 'a@x.com', blocking: true, message: 'm' }] }], risks: [] };
    expect(snapshotOfDocument(plan).items).toEqual([{ check: 'will-break', subject: 'a@x.com', status: 'fail' }]);
    expect(snapshotOfDocument({ formatVersion: 1, kind: 'apply', plan }).kind).toBe('plan');
    expect(() => snapshotOfDocument({ hello: 1 })).toThrow(/not an exo-playbook --format json result/);
    expect(() => snapshotOfDocument({ formatVersion: 1, kind: 'diff' })).toThrow(/a diff of an unexpected shape/);
  });
});

describe('groupTexts', () => {
  it('says a text every row shares once, a closing clause several rows share once, and each advice once', () => {
    const deadline = 'breaks when Microsoft switches Basic SMTP AUTH off by default (end of December 2026)';
    const g = groupTexts([
      { subject: 'a@x.com', message: `Basic, 3 message(s); ${deadline}. Advice: move to OAuth` },
      { subject: 'b@x.com', message: `Basic, 9 message(s); ${deadline}, even though allowlisted. Advice: move to OAuth` },
      { subject: 'c@x.com', message: `Basic, 1 message(s); ${deadline}. Advice: retire it` },
    ]);
    expect(g.details).toEqual(['Basic, 3 message(s)', `Basic, 9 message(s); ${deadline}, even though allowlisted`, 'Basic, 1 message(s)']);
    expect(g.notes).toEqual([{ text: deadline, subjects: ['a@x.com', 'c@x.com'] }]);
    expect(g.advice).toEqual([
      { text: 'move to OAuth', subjects: ['a@x.com', 'b@x.com'] },
      { text: 'retire it', subjects: ['c@x.com'] },
    ]);
    const same = groupTexts([
      { subject: 'a', message: 'loses SMTP AUTH (Basic): the organization goes off and the mailbox follows it' },
      { subject: 'b', message: 'loses SMTP AUTH (OAuth): the organization goes off and the mailbox follows it' },
    ]);
    expect(same.shared).toBe('the organization goes off and the mailbox follows it');
    expect(same.details).toEqual(['loses SMTP AUTH (Basic)', 'loses SMTP AUTH (OAuth)']);
  });
});

describe('history: in the html page', () => {
  let w: ReportWorkspace;
  beforeAll(async () => {
    w = await reportWorkspace(200, 'html-since');
  });
  afterAll(() => w?.cleanup());

  it('a sender the previous verify did not see is listed under "Since the last run"', async () => {
    const env = { ...process.env, EXO_PLAYBOOK_LOCK_DIR: join(w.dir, 'locks') };
    const first = await runCli(['verify', 'smtp-auth-usage.yaml', ...w.target, '--format', 'html'], w.dir, env);
    expect(first.stderr).not.toMatch(/error/i);
    expect(first.stdout).not.toContain('New senders since the previous verify');
    const csv = join(w.dir, 'smtp-auth-clients-report.csv');
    writeFileSync(csv, `${readFileSync(csv, 'utf8')}newprinter@contoso.com,contoso.com,0%,0%,100%,5,Basic Authentication\r\n`);
    const second = await runCli(['verify', 'smtp-auth-usage.yaml', ...w.target, '--format', 'html'], w.dir, env);
    expect(second.code, second.stderr).toBe(2);
    const since = second.stdout.slice(second.stdout.indexOf('id="since"'), second.stdout.indexOf('</details>', second.stdout.indexOf('id="since"')));
    expect(since).toContain('New senders since the previous verify (history:): 1');
    expect(since).toContain('newprinter@contoso.com');
  });
});
