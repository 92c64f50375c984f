/**
 * Reads the Exchange admin center's "SMTP AUTH clients report" as exported to CSV (Reports > Mail
 * flow). Exports differ by date and locale settings, so columns are found by name variants; a file
 * that is not that report fails with the file, line and column, and what was expected.
 * Two layouts exist: before 18 October 2024 without, since then with an "Authentication protocol"
 * column (EXCHANGE-FACTS); both have Sender address, Domain, TLS 1.0/1.1/1.2 % and Messages sent,
 * and no date column (a date column some tools add is read when present). Comma or semicolon
 * separated (decimal-comma locales), in any encoding decodeUsageText accepts.
 */
import { InputError } from '../../../errors.js';
import { CsvSyntaxError, detectSeparator, parseCsv, refuseFormulaCell, type CsvRecord } from './csv.js';
import type { SourceReading } from './evidence.js';
import { printable } from '../../../graph/requests.js';
import { mergeUsageRows, parseProtocol, type UsageRow } from './usage-table.js';

type Column = 'sender' | 'protocol' | 'messages' | 'lastSeen' | 'tls10' | 'tls11' | 'tls12' | 'tls13';

/** Header names as exports spell them, compared lower-case without spaces, dashes or underscores. */
const COLUMN_NAMES: Record<Column, string[]> = {
  sender: ['senderaddress', 'sender', 'user', 'userprincipalname', 'emailaddress', 'mailbox'],
  protocol: ['authenticationprotocol', 'authprotocol', 'authentication', 'protocol', 'authenticationmethod'],
  messages: ['messagessent', 'messagecount', 'messages', 'totalmessages', 'count', 'messagessentcount'],
  lastSeen: ['lastseen', 'lastactivity', 'lastactivitydate', 'lastsent', 'lastseendate', 'date'],
  tls10: ['tls1.0', 'tls1.0%', 'tls10'],
  tls11: ['tls1.1', 'tls1.1%', 'tls11'],
  tls12: ['tls1.2', 'tls1.2%', 'tls12'],
  tls13: ['tls1.3', 'tls1.3%', 'tls13'],
};

const TLS_COLUMNS: [Column, string][] = [
  ['tls10', 'TLS 1.0'],
  ['tls11', 'TLS 1.1'],
  ['tls12', 'TLS 1.2'],
  ['tls13', 'TLS 1.3'],
];

/** One row of the report with what the row says about TLS (versions with a share above 0 %). */
export interface ClientsReportRow extends UsageRow {
  tlsVersions: string[];
}

const squash = (name: string): string => name.toLowerCase().replace(/\([^)]*\)/g, '').replace(/[\s_-]/g, '');

export function readClientsReport(text: string, file: string): UsageRow[] {
  return mergeUsageRows(parseClientsReport(text, file).map(({ tlsVersions: _tls, ...row }) => row));
}

/** The report as evidence: one sender record per address, protocols and TLS versions merged. */
export function clientsReportEvidence(text: string, file: string): SourceReading {
  const rows = parseClientsReport(text, file);
  const bySender = new Map<string, SourceReading['senders'][number]>();
  for (const row of rows) {
    const seen = bySender.get(row.sender);
    if (!seen) {
      bySender.set(row.sender, {
        sender: row.sender,
        protocols: [row.protocol],
        messages: row.messages,
        firstSeen: null,
        lastSeen: row.lastSeen,
        clientIps: [],
        tlsVersions: [...row.tlsVersions],
      });
      continue;
    }
    if (!seen.protocols.includes(row.protocol)) seen.protocols.push(row.protocol);
    seen.messages = (seen.messages ?? 0) + row.messages;
    if (row.lastSeen && (!seen.lastSeen || row.lastSeen > seen.lastSeen)) seen.lastSeen = row.lastSeen;
    seen.tlsVersions = [...new Set([...seen.tlsVersions, ...row.tlsVersions])];
  }
  const hasProtocol = rows.some((r) => r.protocol !== 'Unknown');
  return {
    source: 'admin-center-report',
    label: file,
    window: 'the period chosen when exporting (7 days by default, up to 90; the file carries no dates)',
    blindSpots: [
      'no dates: first and last seen are unknown',
      'no client IPs',
      ...(hasProtocol ? [] : ['no Authentication protocol column (an export from before October 2024): Basic and OAuth cannot be told apart']),
    ],
    complete: true,
    senders: [...bySender.values()],
    warnings: [],
  };
}

function parseClientsReport(text: string, file: string): ClientsReportRow[] {
  let records: CsvRecord[];
  try {
    records = parseCsv(text, detectSeparator(text));
  } catch (error) {
    if (error instanceof CsvSyntaxError) {
      throw new InputError(`not a readable CSV: ${error.message}`, { file, line: error.line, col: error.col }, 'export the report again from the admin center');
    }
    throw error;
  }
  const header = records[0];
  if (!header) throw new InputError('the SMTP AUTH clients report is empty', { file, line: 1, col: 1 }, 'export the report from Reports > Mail flow > SMTP AUTH clients report');
  const at = findColumns(header, file);
  const rows: ClientsReportRow[] = [];
  for (const record of records.slice(1)) {
    const field = (c: Column) => (at[c] === undefined ? undefined : (record.fields[at[c]!] ?? '').trim());
    const where = (c: Column) => ({ file, line: record.line, col: record.cols[at[c]!] ?? 1 });
    const sender = field('sender') ?? '';
    if (sender === '') continue; // totals and footer lines have no sender
    refuseFormulaCell(sender, where('sender'), 'a sender address');
    if (!/^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u.test(sender)) {
      throw new InputError(`'${printable(sender)}' is not a sender address`, where('sender'), 'each row of the report names one sender address');
    }
    const messagesText = (field('messages') ?? '').replace(/[\s,.'\u00a0](?=\d{3}\b)/g, '');
    if (!/^\d+$/.test(messagesText)) {
      throw new InputError(`'${printable(field('messages') ?? '')}' is not a message count (sender ${sender})`, where('messages'), 'the message count column must hold whole numbers');
    }
    const lastSeen = field('lastSeen');
    rows.push({
      sender: sender.toLowerCase(),
      protocol: parseProtocol(field('protocol') ?? ''),
      messages: Number(messagesText),
      lastSeen: lastSeen ? normaliseDate(lastSeen) : null,
      tlsVersions: TLS_COLUMNS.filter(([column]) => percentOf(field(column)) > 0).map(([, name]) => name),
    });
  }
  return rows;
}

/** "12%", "12,5 %", "0.0" → a number; anything else 0 (the column is informational). */
function percentOf(text: string | undefined): number {
  const n = Number((text ?? '').replace('%', '').replace(',', '.').trim());
  return Number.isFinite(n) ? n : 0;
}

function findColumns(header: CsvRecord, file: string): Partial<Record<Column, number>> {
  const names = header.fields.map(squash);
  const at: Partial<Record<Column, number>> = {};
  for (const column of Object.keys(COLUMN_NAMES) as Column[]) {
    const index = COLUMN_NAMES[column].map((n) => names.indexOf(n)).find((i) => i >= 0);
    if (index !== undefined) at[column] = index;
  }
  if (at.sender === undefined || at.messages === undefined) {
    const missing = [at.sender === undefined ? '"Sender address"' : '', at.messages === undefined ? '"Messages sent"' : ''].filter(Boolean);
    const looksLikeRequestReport = names.includes('sendername') && names.includes('authmethod');
    throw new InputError(
      `not an SMTP AUTH clients report: no ${missing.join(' or ')} column (found: ${header.fields.slice(0, 20).map((f) => `"${printable(f).slice(0, 60)}"`).join(', ')})`,
      { file, line: header.line, col: 1 },
      looksLikeRequestReport
        ? 'this is the historical search\'s request report: point `requestReport:` at it instead of `report:`'
        : 'export Reports > Mail flow > SMTP AUTH clients report as CSV, and point `report:` at that file',
    );
  }
  return at;
}

/** ISO dates stay as they are; other date texts become ISO when unambiguous, else stay verbatim. */
function normaliseDate(text: string): string {
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) return text;
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? text : new Date(parsed).toISOString();
}
