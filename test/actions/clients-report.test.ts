import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readClientsReport } from '../../src/actions/smtp-auth/usage/clients-report.js';
import { parseCsv } from '../../src/actions/smtp-auth/usage/csv.js';
import { inputErrorOf as errorOf } from '../support/input-error.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');


describe('SMTP AUTH clients report (admin center CSV export)', () => {
  it('reads a realistic export: BOM, CRLF, quoted commas, quotes and newlines, thousands separators', () => {
    const rows = readClientsReport(fixture('smtp-auth-clients-report.csv'), 'report.csv');
    expect(rows).toEqual([
      { sender: 'scanner@contoso.com', protocol: 'Basic', messages: 1204, lastSeen: '2026-11-21T08:14:00Z' },
      { sender: 'noreply-erp@contoso.com', protocol: 'OAuth', messages: 312, lastSeen: '2026-11-22T23:59:00Z' },
      { sender: 'alice@contoso.com', protocol: 'Basic', messages: 22, lastSeen: '2026-11-22T10:00:00Z' },
      { sender: 'ghost-printer@fabrikam.com', protocol: 'Basic', messages: 3, lastSeen: '2026-11-02T07:30:00Z' },
      { sender: 'alice@contoso.com', protocol: 'OAuth', messages: 2, lastSeen: '2026-11-19T10:00:00Z' },
    ]);
  });

  it('accepts column-name variants (User, Auth protocol, Messages, Last seen)', () => {
    expect(readClientsReport(fixture('variant-headers.csv'), 'v.csv')).toEqual([
      { sender: 'bob@contoso.com', protocol: 'Basic', messages: 9, lastSeen: '2026-11-01' },
    ]);
  });

  it('refuses a file that is not that report, naming what it found and expected', () => {
    const e = errorOf(() => readClientsReport(fixture('not-a-report.csv'), 'other.csv'));
    expect(e.location).toEqual({ file: 'other.csv', line: 1, col: 1 });
    expect(e.message).toContain('not an SMTP AUTH clients report');
    expect(e.message).toContain('"Sender address"');
    expect(e.message).toContain('found: "Date", "Subject", "Recipient"');
  });

  it('points at the bad cell of a row', () => {
    const e = errorOf(() => readClientsReport(fixture('bad-count.csv'), 'bad.csv'));
    expect(e.location).toEqual({ file: 'bad.csv', line: 3, col: 21 });
    expect(e.message).toContain("'lots' is not a message count");
  });

  it('locates an unterminated quote', () => {
    const e = errorOf(() => readClientsReport('Sender address,Messages sent\n"a@b.com,3\n', 'q.csv'));
    expect(e.location).toEqual({ file: 'q.csv', line: 2, col: 1 });
  });

  it('keeps line numbers across quoted newlines', () => {
    const records = parseCsv('a,b\n"x\ny",1\nz,2\n');
    expect(records.map((r) => r.line)).toEqual([1, 2, 4]);
    expect(records[1]!.fields).toEqual(['x\ny', '1']);
  });
});
