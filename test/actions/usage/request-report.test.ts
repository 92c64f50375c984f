/**
 * A request report (the historical search's SmtpCSReport download) with rows that do not parse: each
 * is counted and named at its line and column, every other row is still read, and the reading says it
 * is incomplete so the lockout guard does not take it for the whole truth.
 */
import { describe, expect, it } from 'vitest';
import { requestReportEvidence } from '../../../src/actions/smtp-auth/usage/request-report.js';

const HEADER = 'date,senderName,senderDomain,authMethod,original_client_ip,tls_version,tls_cipher,message_count,message_id';

describe('request report rows that do not parse', () => {
  it('one bad date: that row is reported, the other senders are read', () => {
    const evidence = requestReportEvidence(
      [
        HEADER,
        '2026-11-02T07:30:00Z,scanner,contoso.com,Basic,10.0.0.5,TLS1_2,x,3,<a@c>',
        'last tuesday,printer,contoso.com,Basic,10.0.0.7,TLS1_0,x,1,<b@c>',
        '2026-11-04T09:00:00Z,erp,contoso.com,Basic,10.0.0.8,TLS1_2,x,2,<c@c>',
      ].join('\r\n'),
      'SmtpCSReport.csv',
    );
    expect(evidence.senders.map((s) => [s.sender, s.messages])).toEqual([
      ['scanner@contoso.com', 3],
      ['erp@contoso.com', 2],
    ]);
    expect(evidence.warnings).toEqual([
      "1 row(s) of the request report could not be read and were skipped (2 read): SmtpCSReport.csv:3:1: 'last tuesday' is not a date (sender printer@contoso.com). " +
        'Senders only in those rows are unknown to this run: fix or re-download the file',
    ]);
    expect(evidence.complete).toBe(false);
    expect(evidence.window).toBe("2026-11-02..2026-11-04 (from the data: first and last message; 2 message row(s))");
  });

  it('many bad rows: all counted, the first five named', () => {
    const bad = Array.from({ length: 7 }, (_, i) => `2026-11-0${i + 1}T00:00:00Z,dev${i},contoso.com,Basic,10.0.0.1,TLS1_2,x,many,<${i}@c>`);
    const evidence = requestReportEvidence([HEADER, ...bad, '2026-11-09T00:00:00Z,ok,contoso.com,Basic,10.0.0.1,TLS1_2,x,1,<z@c>', 'n,no address,,Basic,,,,1,'].join('\n'), 'r.csv');
    expect(evidence.senders.map((s) => s.sender)).toEqual(['ok@contoso.com']);
    const [warning] = evidence.warnings;
    expect(warning).toMatch(/^8 row\(s\) of the request report could not be read and were skipped \(1 read\): r\.csv:2:63: 'many' is not a message count \(sender dev0@contoso\.com\)/);
    expect(warning).toContain('; and 3 more.');
    expect(warning!.match(/r\.csv:\d+:\d+/g)).toHaveLength(5);
  });

  it('a clean report stays complete, with no warning', () => {
    const evidence = requestReportEvidence([HEADER, '2026-11-02T07:30:00Z,scanner,contoso.com,Basic,10.0.0.5,TLS1_2,x,1,<a@c>'].join('\n'), 'r.csv');
    expect(evidence).toMatchObject({ complete: true, warnings: [] });
  });
});
