import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readClientsReport } from '../../src/actions/smtp-auth/usage/clients-report.js';
import { parseCsv } from '../../src/actions/smtp-auth/usage/csv.js';
import { inputErrorOf as errorOf } from '../support/input-error.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');


describe('SMTP AUTH clients report (admin center CSV export)', () => {
  it('reads a realistic export: BOM, CRLF, quoted cells, thousands separators, a blank footer line', () => {
    const rows = readClientsReport(fixture('smtp-auth-clients-report.csv'), 'report.csv');
    // The report has no date column: last seen is unknown (null), never guessed.
    expect(rows).toEqual([
      { sender: 'scanner@contoso.com', protocol: 'Basic', messages: 1204, lastSeen: null },
      { sender: 'noreply-erp@contoso.com', protocol: 'OAuth', messages: 312, lastSeen: null },
      { sender: 'alice@contoso.com', protocol: 'Basic', messages: 22, lastSeen: null },
      { sender: 'ghost-printer@fabrikam.com', protocol: 'Basic', messages: 3, lastSeen: null },
      { sender: 'alice@contoso.com', protocol: 'OAuth', messages: 2, lastSeen: null },
    ]);
  });

  it('refuses a hand-made header (Sender,Messages) at its line and column: it is not the report', () => {
    const e = errorOf(() => readClientsReport(fixture('fake-header.csv'), 'v.csv'));
    expect(e.location).toEqual({ file: 'v.csv', line: 1, col: 1 });
    expect(e.message).toContain('not the admin center\'s SMTP AUTH clients report: unexpected column "Sender"');
    expect(e.message).toContain('Sender address, Domain, TLS 1.0 %, TLS 1.1 %, TLS 1.2 %, Messages sent [, Authentication protocol]');
  });

  it('refuses a column the real report does not have, at that column', () => {
    const e = errorOf(() => readClientsReport('Sender address,Domain,TLS 1.0 %,TLS 1.1 %,TLS 1.2 %,Messages sent,Last activity (UTC)\n', 'x.csv'));
    expect(e.location).toEqual({ file: 'x.csv', line: 1, col: 'Sender address,Domain,TLS 1.0 %,TLS 1.1 %,TLS 1.2 %,Messages sent,'.length + 1 });
    expect(e.message).toContain('unexpected column "Last activity (UTC)"');
  });

  it('refuses a header that lacks a column of the real report', () => {
    const e = errorOf(() => readClientsReport('Sender address,Messages sent\na@contoso.com,3\n', 'short.csv'));
    expect(e.location).toEqual({ file: 'short.csv', line: 1, col: 1 });
    expect(e.message).toContain('no "Domain", "TLS 1.0 %", "TLS 1.1 %", "TLS 1.2 %" column');
  });

  it('refuses a file that is not that report, naming what it found and expected', () => {
    const e = errorOf(() => readClientsReport(fixture('not-a-report.csv'), 'other.csv'));
    expect(e.location).toEqual({ file: 'other.csv', line: 1, col: 1 });
    expect(e.message).toContain("not the admin center's SMTP AUTH clients report");
    expect(e.message).toContain('the header is "Date", "Subject", "Recipient"');
  });

  it('a report with the real header and no rows reads as no senders', () => {
    expect(readClientsReport('\uFEFFSender address,Domain,TLS 1.0 %,TLS 1.1 %,TLS 1.2 %,Messages sent,Authentication protocol\r\n', 'empty.csv')).toEqual([]);
  });

  it('points at the bad cell of a row', () => {
    const e = errorOf(() => readClientsReport(fixture('bad-count.csv'), 'bad.csv'));
    expect(e.location).toEqual({ file: 'bad.csv', line: 3, col: 'printer@contoso.com,contoso.com,0,0,100,'.length + 1 });
    expect(e.message).toContain("'lots' is not a message count");
  });

  it('locates an unterminated quote', () => {
    const e = errorOf(() => readClientsReport('Sender address,Domain,TLS 1.0 %,TLS 1.1 %,TLS 1.2 %,Messages sent\n"a@b.com,3\n', 'q.csv'));
    expect(e.location).toEqual({ file: 'q.csv', line: 2, col: 1 });
  });

  it('keeps line numbers across quoted newlines', () => {
    const records = parseCsv('a,b\n"x\ny",1\nz,2\n');
    expect(records.map((r) => r.line)).toEqual([1, 2, 4]);
    expect(records[1]!.fields).toEqual(['x\ny', '1']);
  });
});
