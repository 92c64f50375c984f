/**
 * Issue 24, point 5: a sender cell a spreadsheet would run as a formula is refused at its
 * file:line:col (docs/PLAYBOOKS.md says so), in both usage CSVs; every CSV the product writes
 * neutralises such cells with a leading ' (the dossier export and the simulator's usage exports).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientsReportEvidence } from '../../../src/actions/smtp-auth/usage/clients-report.js';
import { decodeUsageText } from '../../../src/actions/smtp-auth/usage/decode.js';
import { requestReportEvidence } from '../../../src/actions/smtp-auth/usage/request-report.js';
import { dossierCsv, type SenderDossier } from '../../../src/actions/smtp-auth/usage/dossier.js';
import { clientsReportCsv, requestReportCsv } from '../../../src/exchange/simulator/usage-export.js';
import { csvCell, looksLikeFormula } from '../../../src/csv-cell.js';
import { inputErrorOf as errorOf } from '../../support/input-error.js';
import { mailbox, tenant } from '../../support/tenant.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'formula-cells');
const PERIOD = { start: '2026-11-16T00:00:00.000Z', end: '2026-11-23T00:00:00.000Z', from: 'from the playbook' };
const text = (name: string) => decodeUsageText(readFileSync(join(FIXTURES, name)), name).text;


describe('formula cells in the usage CSVs are refused at file:line:col', () => {
  it('the clients report: =cmd|calc!A0@x.com, a well-formed address, is no sender', () => {
    const error = errorOf(() => clientsReportEvidence(text('clients-report-formula.csv'), 'clients-report-formula.csv', PERIOD));
    expect(error.location).toEqual({ file: 'clients-report-formula.csv', line: 4, col: 1 });
    expect(error.message).toBe("'=cmd|calc!A0@x.com' starts like a spreadsheet formula (=, +, -, @): refused where a sender address belongs");
  });

  it('the clients report: a quoted @ formula', () => {
    const error = errorOf(() => clientsReportEvidence(text('clients-report-at-formula.csv'), 'r.csv', PERIOD));
    expect(error.location).toEqual({ file: 'r.csv', line: 3, col: 1 });
    expect(error.message).toMatch(/^'@SUM\(1\+1\)\*cmd\|calc!A0@x\.com' starts like a spreadsheet formula/);
  });

  it('the request report (UTF-16): a + formula in senderName', () => {
    const error = errorOf(() => requestReportEvidence(text('request-report-formula.csv'), 'SmtpCSReport.csv'));
    expect(error.location).toEqual({ file: 'SmtpCSReport.csv', line: 3, col: 22 });
    expect(error.message).toBe("'+cmd|calc!A0' starts like a spreadsheet formula (=, +, -, @): refused where a sender name belongs");
  });

  it('a leading - in the domain cell too', () => {
    const csv = 'date,senderName,senderDomain,authMethod,message_count\r\n2026-11-21T08:14:00Z,scanner,-2+3,Basic,1\r\n';
    expect(errorOf(() => requestReportEvidence(csv, 'r.csv')).location).toEqual({ file: 'r.csv', line: 2, col: 30 });
  });
});

describe('every CSV the product writes neutralises formula-like cells', () => {
  it.each(['=1+1', '+1', '-2', '@SUM(A1)', '\t=1', '\r=1'])('%j gets a leading quote', (cell) => {
    expect(looksLikeFormula(cell)).toBe(true);
    expect(csvCell(cell).replace(/^"|"$/g, '').startsWith("'")).toBe(true);
  });

  it('the dossier export', () => {
    const dossier = { sender: '=cmd|calc!A0@x.com', mailbox: null, addresses: [], protocols: ['Basic'], messages: 1, firstSeen: null, lastSeen: null, clientIps: ['-1'], tlsVersions: [], sources: ['clients-report'], smtpAuthNow: 'on', smtpAuthAfter: null, allowlisted: false, breaksEndOf2026: false, failures: 0, advice: ['@here'] } as unknown as SenderDossier;
    const [, row] = dossierCsv([dossier]).trim().split('\r\n');
    expect(row).toMatch(/^'=cmd\|calc!A0@x\.com,no mailbox,/);
    expect(row).toContain(",'-1,");
    expect(row!.endsWith(",'@here")).toBe(true);
  });

  it("the simulator's usage exports", () => {
    const state = tenant([mailbox('alice', null)], {
      clock: '2026-11-23T10:00:00.000Z',
      smtpAuthActivity: [{ sender: '=cmd|calc!A0@x.com', protocol: 'Basic', messages: 3, lastSeen: '2026-11-22T10:00:00.000Z' }],
    } as never);
    const clients = clientsReportCsv(state, 7).toString('utf8');
    expect(clients).toContain("\r\n'=cmd|calc!A0@x.com,");
    expect(clients).not.toMatch(/\r\n=/);
    const request = decodeUsageText(requestReportCsv(state, 7), 'r.csv').text;
    expect(request).toContain(",'=cmd|calc!A0,");
  });
});
