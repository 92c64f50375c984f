/**
 * JUnit XML for `verify --format junit`, so a CI server shows compliance as tests: one testsuite per
 * step, one testcase per finding; fail → <failure>, pass → an empty testcase, warn → <skipped> with the
 * warning as its message, plus <system-out>. A warning must not turn a pipeline red, but it must not
 * pass silently either: CI screens (Jenkins, GitLab, Azure DevOps, GitHub test reporters) show skipped
 * tests apart from passes, with their message. The shape follows the common Ant/Jenkins JUnit schema
 * (test/fixtures/junit/jenkins-junit.xsd; the tests validate against it). Each testcase's name starts with
 * its control ids in brackets ([EXOPB-SMTP-001 · CIS 6.5.4 · CISA MS.EXO.5.1v1]), see src/report/controls.ts.
 */
import type { Finding } from '../actions/types.js';
import type { VerifyReport } from '../engine/types.js';
import { controlLabel } from './controls.js';

/** Escapes text for XML content and attributes, and drops characters XML 1.0 cannot carry at all. */
export function escapeXml(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '\ufffd')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');
}

function testcase(finding: Finding, suite: string): string {
  const open = `    <testcase${attrs({ classname: suite, name: `[${controlLabel(finding)}] ${finding.check}: ${finding.subject}`, time: 0 })}`;
  if (finding.status === 'pass') return `${open}/>`;
  if (finding.status === 'fail') {
    return `${open}>\n      <failure${attrs({ message: finding.message, type: finding.check })}>${escapeXml(`${finding.subject}: ${finding.message}`)}</failure>\n    </testcase>`;
  }
  const warning = `WARN ${finding.subject}: ${finding.message}`;
  return `${open}>\n      <skipped${attrs({ message: warning })}/>\n      <system-out>${escapeXml(warning)}</system-out>\n    </testcase>`;
}

export function renderVerifyJunit(report: VerifyReport): string {
  const steps = [...new Set(report.findings.map((f) => f.stepId))];
  const suites = steps.map((stepId) => {
    const own = report.findings.filter((f) => f.stepId === stepId);
    const name = `${report.playbook.name}.${stepId}`;
    const failures = own.filter((f) => f.status === 'fail').length;
    const skipped = own.filter((f) => f.status === 'warn').length;
    return [
      `  <testsuite${attrs({ name, tests: own.length, failures, errors: 0, skipped, timestamp: report.checkedAt.replace(/Z$/, ''), time: 0 })}>`,
      ...own.map((f) => testcase(f, name)),
      '  </testsuite>',
    ].join('\n');
  });
  const head = `<testsuites${attrs({
    name: `exo-playbook verify ${report.playbook.name} (${report.tenant.organization})`,
    tests: report.findings.length,
    failures: report.summary.fail,
    errors: 0,
    time: 0,
  })}>`;
  return ['<?xml version="1.0" encoding="UTF-8"?>', head, ...suites, '</testsuites>', ''].join('\n');
}
