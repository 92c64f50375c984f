/**
 * Reads the Exchange admin center's "SMTP AUTH clients report" as exported to CSV (Reports > Mail
 * flow). Its header is fixed (shared/EXCHANGE-FACTS.md, "Other usage sources"): Sender address,
 * Domain, TLS 1.0 %, TLS 1.1 %, TLS 1.2 %, Messages sent, and since 18 October 2024 Authentication
 * protocol ("Basic Authentication", "OAuth"). Any other header (a hand-made `Sender,Messages`, a tool's
 * own export with extra columns) is not that report and is refused at its line: the lockout guard
 * trusts this file as Microsoft's count of who submits. The report has no date column: the period it
 * covers comes from the playbook (exportedAt:, periodDays:) or the file's modification time, and is
 * given to it by the caller. Comma or semicolon separated (decimal-comma locales), in any encoding
 * decodeUsageText accepts. A report with the real header and no rows says "no SMTP AUTH senders".
 */
import { InputError } from '../../../errors.js';
import { CsvSyntaxError, detectSeparator, parseCsv, refuseFormulaCell, type CsvRecord } from './csv.js';
import type { EvidencePeriod, SourceReading } from './evidence.js';
import { printable } from '../../../graph/requests.js';
import { mergeUsageRows, parseProtocol, type UsageRow } from './usage-table.js';

type Column = 'sender' | 'domain' | 'tls10' | 'tls11' | 'tls12' | 'messages' | 'protocol';

/** The real header, as the admin center writes it (compared without case and spaces). */
const HEADER: Record<Column, string> = {
  sender: 'Sender address',
  domain: 'Domain',
  tls10: 'TLS 1.0 %',
  tls11: 'TLS 1.1 %',
  tls12: 'TLS 1.2 %',
  messages: 'Messages sent',
  protocol: 'Authentication protocol',
};
/** Only the protocol column may be missing: exports from before 18 October 2024 lack it. */
const OPTIONAL: readonly Column[] = ['protocol'];

const TLS_COLUMNS: [Column, string][] = [
  ['tls10', 'TLS 1.0'],
  ['tls11', 'TLS 1.1'],
  ['tls12', 'TLS 1.2'],
];

/** One row of the report with what the row says about TLS (versions with a share above 0 %). */
export interface ClientsReportRow extends UsageRow {
  tlsVersions: string[];
}

const squash = (name: string): string => name.toLowerCase().replace(/\s+/g, '');
const REAL_HEADER = `${Object.values(HEADER).filter((_, i) => i < 6).join(', ')} [, ${HEADER.protocol}]`;

export function readClientsReport(text: string, file: string): UsageRow[] {
  return mergeUsageRows(parseClientsReport(text, file).map(({ tlsVersions: _tls, ...row }) => row));
}

/** The report as evidence over the period the caller established: one sender record per address. */
export function clientsReportEvidence(text: string, file: string, period: EvidencePeriod): SourceReading {
  const { rows, hasProtocol } = parseReport(text, file);
  const bySender = new Map<string, SourceReading['senders'][number]>();
  for (const row of rows) {
    const seen = bySender.get(row.sender);
    if (!seen) {
      bySender.set(row.sender, { sender: row.sender, protocols: [row.protocol], messages: row.messages, firstSeen: null, lastSeen: null, clientIps: [], tlsVersions: [...row.tlsVersions] });
      continue;
    }
    if (!seen.protocols.includes(row.protocol)) seen.protocols.push(row.protocol);
    seen.messages = (seen.messages ?? 0) + (row.messages ?? 0);
    seen.tlsVersions = [...new Set([...seen.tlsVersions, ...row.tlsVersions])];
  }
  return {
    source: 'admin-center-report',
    label: file,
    window: `${period.start.slice(0, 10)}..${period.end.slice(0, 10)} (${period.from})`,
    windowStart: period.start,
    windowEnd: period.end,
    periodFrom: period.from,
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
  return parseReport(text, file).rows;
}

function parseReport(text: string, file: string): { rows: ClientsReportRow[]; hasProtocol: boolean } {
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
  if (!header) throw new InputError('the SMTP AUTH clients report is empty (not even its header)', { file, line: 1, col: 1 }, 'export the report from Reports > Mail flow > SMTP AUTH clients report');
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
    rows.push({
      sender: sender.toLowerCase(),
      protocol: parseProtocol(field('protocol') ?? ''),
      messages: Number(messagesText),
      lastSeen: null,
      tlsVersions: TLS_COLUMNS.filter(([column]) => percentOf(field(column)) > 0).map(([, name]) => name),
    });
  }
  return { rows, hasProtocol: at.protocol !== undefined };
}

/** "12%", "12,5 %", "0.0" → a number; anything else 0 (the column is informational). */
function percentOf(text: string | undefined): number {
  const n = Number((text ?? '').replace('%', '').replace(',', '.').trim());
  return Number.isFinite(n) ? n : 0;
}

/** Every column of the real header, nothing else: a header that differs is refused at its column. */
function findColumns(header: CsvRecord, file: string): Partial<Record<Column, number>> {
  const wanted = new Map((Object.entries(HEADER) as [Column, string][]).map(([column, name]) => [squash(name), column]));
  const at: Partial<Record<Column, number>> = {};
  const found = header.fields.map((f) => `"${printable(f).slice(0, 60)}"`).slice(0, 20).join(', ');
  const names = header.fields.map(squash);
  const looksLikeRequestReport = names.includes('sendername') && names.includes('authmethod');
  const refuse = (problem: string, col: number): never => {
    throw new InputError(
      `not the admin center's SMTP AUTH clients report: ${problem} (the header is ${found}; the real report's is ${REAL_HEADER})`,
      { file, line: header.line, col },
      looksLikeRequestReport
        ? 'this is the historical search\'s request report: point `requestReport:` at it instead of `report:`'
        : 'export Reports > Mail flow > SMTP AUTH clients report as CSV from the admin center and point `report:` at that file, unedited',
    );
  };
  names.forEach((name, i) => {
    const column = wanted.get(name);
    const col = header.cols[i] ?? 1;
    if (column === undefined) refuse(`unexpected column "${printable(header.fields[i] ?? '').slice(0, 60)}"`, col);
    else if (at[column] !== undefined) refuse(`column "${HEADER[column]}" appears twice`, col);
    else at[column] = i;
  });
  const missing = (Object.keys(HEADER) as Column[]).filter((c) => at[c] === undefined && !OPTIONAL.includes(c));
  if (missing.length) refuse(`no ${missing.map((c) => `"${HEADER[c]}"`).join(', ')} column`, 1);
  return at;
}
