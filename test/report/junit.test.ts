import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { escapeXml, renderVerifyJunit } from '../../src/report/junit.js';
import type { VerifyReport } from '../../src/engine/types.js';

const report: VerifyReport = {
  playbook: { name: 'smtp-auth-disable', file: 'p.yaml', hash: 'h', change: 'CHG1' },
  tenant: { organization: 'contoso.onmicrosoft.com', target: 'exchange' },
  checkedAt: '2026-11-23T10:00:00.000Z',
  findings: [
    { stepId: 'org', check: 'organization-off', status: 'pass', subject: 'Organization', message: 'is $true' },
    { stepId: 'allow', check: 'allowlisted-on', status: 'fail', subject: 'a&b <"x">@contoso.com', message: "is $null, wants $false & 'more'" },
    { stepId: 'allow', check: 'policy', status: 'warn', subject: 'c@contoso.com', message: 'policy blocks Basic\u0001' },
  ],
  summary: { pass: 1, fail: 1, warn: 1 },
  compliant: false,
};

describe('renderVerifyJunit', () => {
  const xml = renderVerifyJunit(report);
  const doc = new XMLParser({ ignoreAttributes: false, isArray: (n) => n === 'testsuite' || n === 'testcase' }).parse(xml);

  it('is well-formed XML even with markup and control characters in the data', () => {
    expect(XMLValidator.validate(xml)).toBe(true);
  });

  it('has one testsuite per step and one testcase per finding', () => {
    const suites = doc.testsuites.testsuite;
    expect(suites.map((s: Record<string, string>) => s['@_name'])).toEqual(['smtp-auth-disable.org', 'smtp-auth-disable.allow']);
    expect(suites[1].testcase).toHaveLength(2);
    expect(doc.testsuites['@_tests']).toBe('3');
    expect(doc.testsuites['@_failures']).toBe('1');
  });

  it('turns fail into <failure> and warn into <skipped> with a message (not a silent pass), with the text intact after parsing', () => {
    const [fail, warn] = doc.testsuites.testsuite[1].testcase;
    expect(fail.failure['@_message']).toBe("is $null, wants $false & 'more'");
    expect(fail['@_name']).toBe('[EXOPB-SMTP-003] allowlisted-on: a&b <"x">@contoso.com');
    expect(warn.failure).toBeUndefined();
    expect(warn.skipped['@_message']).toBe('WARN c@contoso.com: policy blocks Basic\ufffd');
    expect(warn['system-out']).toContain('WARN c@contoso.com');
    expect(doc.testsuites.testsuite[1]['@_skipped']).toBe('1');
    expect(doc.testsuites.testsuite[0]['@_skipped']).toBe('0');
  });

  it('escapes the five XML specials', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });
});
