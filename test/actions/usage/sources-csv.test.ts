/**
 * The two CSV sources as Microsoft delivers them: every encoding (UTF-8, UTF-8 BOM, UTF-16 LE/BE
 * with BOM, UTF-16 without BOM), comma or semicolon separated, the clients report with and without
 * the "Authentication protocol" column; files that are neither, broken, hostile or huge fail with
 * file:line:col.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientsReportEvidence } from '../../../src/actions/smtp-auth/usage/clients-report.js';
import { decodeUsageText, readUsageFile } from '../../../src/actions/smtp-auth/usage/decode.js';
import { requestReportEvidence } from '../../../src/actions/smtp-auth/usage/request-report.js';
import { inputErrorOf as errorOf } from '../../support/input-error.js';

type Encoding = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be' | 'utf-16le-nobom';

function encode(text: string, encoding: Encoding): Buffer {
  const le = Buffer.from(text, 'utf16le');
  switch (encoding) {
    case 'utf-8':
      return Buffer.from(text, 'utf8');
    case 'utf-8-bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    case 'utf-16le':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), le]);
    case 'utf-16le-nobom':
      return le;
    case 'utf-16be': {
      const be = Buffer.from(le);
      be.swap16();
      return Buffer.concat([Buffer.from([0xfe, 0xff]), be]);
    }
  }
}


const WITH_PROTOCOL = [
  ['Sender address', 'Domain', 'TLS 1.0 %', 'TLS 1.1 %', 'TLS 1.2 %', 'Messages sent', 'Authentication protocol'],
  ['scanner@contoso.com', 'contoso.com', '25', '0', '75', '1204', 'Basic Authentication'],
  ['erp@contoso.com', 'contoso.com', '0', '0', '100', '312', 'OAuth'],
];
const WITHOUT_PROTOCOL = WITH_PROTOCOL.map((row) => row.slice(0, 6));

const PERIOD = { start: '2026-11-16T09:00:00.000Z', end: '2026-11-23T09:00:00.000Z', from: 'from the playbook: exportedAt: 2026-11-23T09:00Z' };
const csv = (rows: string[][], sep: string) => rows.map((r) => r.join(sep)).join('\r\n') + '\r\n';

describe('admin center SMTP AUTH clients report: every variant Microsoft exports', () => {
  const encodings: Encoding[] = ['utf-8', 'utf-8-bom', 'utf-16le', 'utf-16be'];
  for (const encoding of encodings) {
    for (const sep of [',', ';']) {
      it(`reads ${encoding}, "${sep}"-separated, with the Authentication protocol column`, () => {
        const { text } = decodeUsageText(encode(csv(WITH_PROTOCOL, sep), encoding), 'r.csv');
        const evidence = clientsReportEvidence(text, 'r.csv', PERIOD);
        expect(evidence.senders.map((s) => [s.sender, s.protocols, s.messages, s.tlsVersions])).toEqual([
          ['scanner@contoso.com', ['Basic'], 1204, ['TLS 1.0', 'TLS 1.2']],
          ['erp@contoso.com', ['OAuth'], 312, ['TLS 1.2']],
        ]);
        expect(evidence.blindSpots.join(' ')).not.toContain('before October 2024');
      });
      it(`reads ${encoding}, "${sep}"-separated, the older layout without it (protocol unknown, said so)`, () => {
        const { text } = decodeUsageText(encode(csv(WITHOUT_PROTOCOL, sep), encoding), 'r.csv');
        const evidence = clientsReportEvidence(text, 'r.csv', PERIOD);
        expect(evidence.senders.map((s) => [s.sender, s.protocols, s.messages])).toEqual([
          ['scanner@contoso.com', ['Unknown'], 1204],
          ['erp@contoso.com', ['Unknown'], 312],
        ]);
        expect(evidence.blindSpots.join(' ')).toContain('no Authentication protocol column (an export from before October 2024)');
      });
    }
  }

  it('a semicolon export from a decimal-comma locale keeps "1.204" style counts and "12,5" percentages', () => {
    const text = 'Sender address;Domain;TLS 1.0 %;TLS 1.1 %;TLS 1.2 %;Messages sent;Authentication protocol\nprinter@contoso.com;contoso.com;12,5;0;87,5;1.204;Basic\n';
    const evidence = clientsReportEvidence(text, 'de.csv', PERIOD);
    expect(evidence.senders[0]).toMatchObject({ sender: 'printer@contoso.com', messages: 1204, tlsVersions: ['TLS 1.0', 'TLS 1.2'] });
  });

  it('refuses a file that is neither layout, at file:line:col of its header', () => {
    const { text } = decodeUsageText(encode('Date;Subject;Recipient\r\n2026-11-01;hello;a@b.com\r\n', 'utf-16le'), 'other.csv');
    const e = errorOf(() => clientsReportEvidence(text, 'other.csv', PERIOD));
    expect(e.location).toEqual({ file: 'other.csv', line: 1, col: 1 });
    expect(e.message).toContain("not the admin center's SMTP AUTH clients report");
  });

  it('a request report given as report: says which key it belongs to', () => {
    const e = errorOf(() => clientsReportEvidence('date,senderName,senderDomain,authMethod,message_count\n', 'req.csv', PERIOD));
    expect(e.hint).toContain('requestReport:');
  });

  it('a formula cell where a sender belongs stays data: refused at its cell, never evaluated', () => {
    const text = 'Sender address,Domain,TLS 1.0 %,TLS 1.1 %,TLS 1.2 %,Messages sent,Authentication protocol\n"=cmd|\' /C calc\'!A0",contoso.com,0,0,100,5,Basic\n';
    const e = errorOf(() => clientsReportEvidence(text, 'evil.csv', PERIOD));
    expect(e.location).toEqual({ file: 'evil.csv', line: 2, col: 1 });
    expect(e.message).toContain("'=cmd|' /C calc'!A0' starts like a spreadsheet formula");
  });
});

describe('terminal escapes in a report', () => {
  it('an address with control characters is refused, and the message cannot drive the terminal', () => {
    const e = errorOf(() => clientsReportEvidence('Sender address,Domain,TLS 1.0 %,TLS 1.1 %,TLS 1.2 %,Messages sent\n\u001b[2Jx@contoso.com,contoso.com,0,0,100,5\n', 'esc.csv', PERIOD));
    expect(e.location).toEqual({ file: 'esc.csv', line: 2, col: 1 });
    expect(e.message.includes('\u001b')).toBe(false);
    expect(e.message).toContain("'?[2Jx@contoso.com' is not a sender address");
  });
});

describe('encodings that are broken, and files that are too big', () => {
  it('invalid UTF-8 is an error at the line and column of the bad byte', () => {
    const bytes = Buffer.concat([Buffer.from('Sender address,Messages sent\nok@contoso.com,1\nbad'), Buffer.from([0xc3, 0x28]), Buffer.from('@x.com,2\n')]);
    const e = errorOf(() => decodeUsageText(bytes, 'broken.csv'));
    expect(e.location).toEqual({ file: 'broken.csv', line: 3, col: 4 });
    expect(e.message).toContain('byte 0xc3');
  });

  it('UTF-16 cut in the middle of a character is an error, not a guess', () => {
    const bytes = encode('Sender address,Messages sent\n', 'utf-16le').subarray(0, 21);
    const e = errorOf(() => decodeUsageText(bytes, 'cut.csv'));
    expect(e.message).toContain('odd number of bytes');
    expect(e.location?.file).toBe('cut.csv');
  });

  it('a lone surrogate in UTF-16 is located', () => {
    const bytes = Buffer.concat([encode('a,b\nx', 'utf-16le'), Buffer.from([0x00, 0xd8]), Buffer.from('y\n', 'utf16le')]);
    const e = errorOf(() => decodeUsageText(bytes, 's.csv'));
    expect(e.location).toEqual({ file: 's.csv', line: 2, col: 2 });
  });

  it('UTF-16 without a BOM (as some downloads come) is recognised', () => {
    expect(decodeUsageText(encode('date,senderName\n', 'utf-16le-nobom'), 'x.csv')).toEqual({ text: 'date,senderName\n', encoding: 'utf-16le' });
  });

  it('a file over the size cap stops reading at the cap with a located error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'usage-size-'));
    const file = join(dir, 'huge.csv');
    writeFileSync(file, Buffer.alloc(64 * 1024, 0x41));
    await expect(readUsageFile(file, 'huge.csv', 'SMTP AUTH clients report', { roots: [], maxBytes: 32 * 1024 })).rejects.toMatchObject({
      message: expect.stringContaining('larger than'),
      location: { file: 'huge.csv', line: 1, col: 1 },
    });
    await expect(readUsageFile(join(dir, 'missing.csv'), 'missing.csv', 'request report', { roots: [], maxBytes: 1024 })).rejects.toThrow(/cannot read the request report missing.csv: no such file/);
  });
});

const REQUEST_HEADER = 'date,senderName,senderDomain,authMethod,original_client_ip,tls_version,tls_cipher,message_count,message_id';

describe('request report (SmtpCSReport download): one row per message, aggregated per sender', () => {
  const rows = [
    REQUEST_HEADER,
    '2026-11-02T07:30:00Z,scanner,contoso.com,Basic,10.0.0.5,TLS1_0,TLS_RSA_WITH_AES_128_CBC_SHA,1,<a@contoso.com>',
    '2026-11-20T08:00:00Z,scanner,contoso.com,Basic,10.0.0.6,TLS1_2,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,2,<b@contoso.com>',
    '2026-11-10T10:00:00Z,Scanner@Contoso.com,contoso.com,BasicAuth,10.0.0.5,TLS1_2,TLS_ECDHE,1,<c@contoso.com>',
    '2026-11-15T12:00:00Z,app,fabrikam.com,OAuth,203.0.113.9,TLS1_2,TLS_ECDHE,1,<d@fabrikam.com>',
  ];
  it('reads UTF-16 LE and aggregates: messages, first and last seen, client IPs, TLS versions, protocols', () => {
    const { text, encoding } = decodeUsageText(encode(rows.join('\r\n') + '\r\n', 'utf-16le'), 'SmtpCSReport.csv');
    expect(encoding).toBe('utf-16le');
    const evidence = requestReportEvidence(text, 'SmtpCSReport.csv');
    expect(evidence.source).toBe('request-report');
    expect(evidence.senders).toEqual([
      {
        sender: 'scanner@contoso.com',
        protocols: ['Basic'],
        messages: 4,
        firstSeen: '2026-11-02T07:30:00.000Z',
        lastSeen: '2026-11-20T08:00:00.000Z',
        clientIps: ['10.0.0.5', '10.0.0.6'],
        tlsVersions: ['TLS 1.0', 'TLS 1.2'],
      },
      {
        sender: 'app@fabrikam.com',
        protocols: ['OAuth'],
        messages: 1,
        firstSeen: '2026-11-15T12:00:00.000Z',
        lastSeen: '2026-11-15T12:00:00.000Z',
        clientIps: ['203.0.113.9'],
        tlsVersions: ['TLS 1.2'],
      },
    ]);
    expect(evidence.window).toBe('2026-11-02..2026-11-20 (from the data: first and last message; 4 message row(s))');
  });

  it('a report at the service\'s 100,000-row cap is read, but marked possibly cut', () => {
    const rows = [REQUEST_HEADER];
    for (let i = 0; i < 100_000; i++) rows.push(`2026-11-01T08:00:00Z,dev${i % 50},contoso.com,Basic,10.0.0.${i % 9},TLS1_2,x,1,<${i}@c>`);
    const evidence = requestReportEvidence(rows.join('\n'), 'big.csv');
    expect(evidence.senders).toHaveLength(50);
    expect(evidence.senders[0]!.messages).toBe(2000);
    expect(evidence.complete).toBe(false);
    expect(evidence.warnings[0]).toContain('100,000 rows, the service\'s cap');
  });

  it('a bad date or count skips that row, named at its cell (test/actions/usage/request-report.test.ts)', () => {
    const e = requestReportEvidence([REQUEST_HEADER, 'yesterday,a,contoso.com,Basic,1.2.3.4,TLS1_2,x,1,<m>'].join('\n'), 'r.csv');
    expect(e.warnings[0]).toContain("r.csv:2:1: 'yesterday' is not a date");
    const c = requestReportEvidence([REQUEST_HEADER, '2026-11-01T00:00:00Z,a,contoso.com,Basic,1.2.3.4,TLS1_2,x,=1+1,<m>'].join('\n'), 'r.csv');
    expect(c.warnings[0]).toMatch(/r\.csv:2:\d+: '=1\+1' is not a message count/);
  });

  it('the admin center report given as requestReport: is refused with the right key named', () => {
    const e = errorOf(() => requestReportEvidence(csv(WITH_PROTOCOL, ','), 'clients.csv'));
    expect(e.location).toEqual({ file: 'clients.csv', line: 1, col: 1 });
    expect(e.hint).toContain('`report:`');
  });
});
