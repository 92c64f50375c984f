/**
 * The historical search's downloaded result, the "SmtpCSReport" request report (admin center >
 * SMTP AUTH clients report > Request report, or Start-HistoricalSearch -ReportType SmtpCSReport):
 * UTF-16, one row per message, columns date, senderName, senderDomain, authMethod,
 * original_client_ip, tls_version, tls_cipher, message_count, message_id (EXCHANGE-FACTS). Rows are
 * aggregated per sender: messages, first and last seen, client IPs, TLS versions, protocols.
 */
import { InputError } from '../../../errors.js';
import { CsvSyntaxError, detectSeparator, parseCsv, refuseFormulaCell, type CsvRecord } from './csv.js';
import { earliest, latest, type SenderEvidence, type SourceReading } from './evidence.js';
import { parseProtocol } from './usage-table.js';
import { printable } from '../../../graph/requests.js';

const REQUIRED = ['date', 'sendername', 'senderdomain', 'authmethod', 'message_count'] as const;
const OPTIONAL = ['original_client_ip', 'tls_version', 'tls_cipher', 'message_id'] as const;
type Column = (typeof REQUIRED)[number] | (typeof OPTIONAL)[number];

export function requestReportEvidence(text: string, file: string): SourceReading {
  let records: CsvRecord[];
  try {
    records = parseCsv(text, detectSeparator(text));
  } catch (error) {
    if (error instanceof CsvSyntaxError) {
      throw new InputError(`not a readable CSV: ${error.message}`, { file, line: error.line, col: error.col }, 'download the request report again');
    }
    throw error;
  }
  const header = records[0];
  if (!header) throw new InputError('the request report is empty', { file, line: 1, col: 1 }, 'download the report the historical search mailed (SmtpCSReport)');
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const at = {} as Record<Column, number | undefined>;
  for (const column of [...REQUIRED, ...OPTIONAL]) {
    const index = names.indexOf(column);
    at[column] = index >= 0 ? index : undefined;
  }
  const missing = REQUIRED.filter((c) => at[c] === undefined);
  if (missing.length > 0) {
    const looksLikeClientsReport = names.some((n) => n.replace(/\s/g, '') === 'senderaddress');
    throw new InputError(
      `not a request report (SmtpCSReport): no ${missing.join(', ')} column (found: ${header.fields.slice(0, 20).map((f) => `"${printable(f).slice(0, 60)}"`).join(', ')})`,
      { file, line: header.line, col: 1 },
      looksLikeClientsReport
        ? 'this is the admin center\'s SMTP AUTH clients report: point `report:` at it instead of `requestReport:`'
        : 'download the historical search\'s SmtpCSReport result and point `requestReport:` at it',
    );
  }
  // Sets and ISO-string comparison while aggregating: 100,000 rows must not cost 100,000 array scans.
  interface Tally {
    sender: string;
    protocols: Set<SenderEvidence['protocols'][number]>;
    messages: number;
    first: string;
    last: string;
    ips: Set<string>;
    tls: Set<string>;
  }
  const bySender = new Map<string, Tally>();
  // A row that does not parse is counted and named, and the rest is still read: one bad row must not
  // hide every other sender. The reading is then incomplete (the guard does not trust it blindly).
  const skipped: string[] = [];
  let rows = 0;
  for (const record of records.slice(1)) {
    const field = (c: Column) => (at[c] === undefined ? '' : (record.fields[at[c]!] ?? '').trim());
    const where = (c: Column) => ({ file, line: record.line, col: record.cols[at[c]!] ?? 1 });
    const cell = (c: Column) => `${file}:${record.line}:${where(c).col}`;
    const name = field('sendername');
    const domain = field('senderdomain');
    if (name === '' && domain === '') continue;
    refuseFormulaCell(name, where('sendername'), 'a sender name');
    refuseFormulaCell(domain, where('senderdomain'), 'a sender domain');
    // senderName is the whole address in some downloads and the local part in others.
    const sender = (name.includes('@') ? name : `${name}@${domain}`).toLowerCase();
    if (!/^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u.test(sender)) {
      skipped.push(`${cell('sendername')}: '${printable(name).slice(0, 80)}' / '${printable(domain).slice(0, 80)}' is not a sender address`);
      continue;
    }
    const dateText = field('date');
    const date = Date.parse(dateText);
    if (Number.isNaN(date)) {
      skipped.push(`${cell('date')}: '${printable(dateText).slice(0, 80)}' is not a date (sender ${printable(sender).slice(0, 120)})`);
      continue;
    }
    const countText = field('message_count') || '1';
    if (!/^\d+$/.test(countText)) {
      skipped.push(`${cell('message_count')}: '${printable(countText).slice(0, 80)}' is not a message count (sender ${printable(sender).slice(0, 120)})`);
      continue;
    }
    const iso = new Date(date).toISOString();
    let tally = bySender.get(sender);
    if (!tally) {
      tally = { sender, protocols: new Set(), messages: 0, first: iso, last: iso, ips: new Set(), tls: new Set() };
      bySender.set(sender, tally);
    }
    tally.protocols.add(parseProtocol(field('authmethod')));
    tally.messages += Number(countText);
    if (iso < tally.first) tally.first = iso;
    if (iso > tally.last) tally.last = iso;
    const ip = printable(field('original_client_ip')).slice(0, 64);
    if (ip) tally.ips.add(ip);
    const tls = normaliseTls(field('tls_version'));
    if (tls) tally.tls.add(tls);
    rows++;
  }
  const senders: SenderEvidence[] = [...bySender.values()].map((t) => ({
    sender: t.sender,
    protocols: [...t.protocols],
    messages: t.messages,
    firstSeen: t.first,
    lastSeen: t.last,
    clientIps: [...t.ips],
    tlsVersions: [...t.tls],
  }));
  const first = senders.reduce<string | null>((a, s) => earliest(a, s.firstSeen), null);
  const last = senders.reduce<string | null>((a, s) => latest(a, s.lastSeen), null);
  return {
    source: 'request-report',
    label: file,
    window: first && last ? `${first.slice(0, 10)}..${last.slice(0, 10)} (from the data: first and last message; ${rows} message row(s))` : 'no rows: no dates in the data',
    // The period from the data itself; a report with no rows is dated by the caller (the file's time).
    ...(first && last ? { windowStart: first, windowEnd: last, periodFrom: 'from the data (the first and last message in the report)' } : {}),
    blindSpots: ['at most 100,000 rows per report: a longer period may be cut', 'only the period the search covered (at most 90 days back)'],
    // The service caps a report at 100,000 rows (EXCHANGE-FACTS): a full file may be cut.
    complete: rows < 100_000 && skipped.length === 0,
    senders,
    warnings: [
      ...(rows >= 100_000 ? ['the request report has 100,000 rows, the service\'s cap: it may be cut; search a shorter period'] : []),
      ...(skipped.length > 0 ? [skippedRowsWarning(skipped, rows)] : []),
    ],
  };
}

/** How many rows could not be read, and which (the first few, each at its line and column). */
function skippedRowsWarning(skipped: readonly string[], read: number): string {
  const shown = skipped.slice(0, SKIPPED_ROWS_SHOWN);
  const more = skipped.length - shown.length;
  return (
    `${skipped.length} row(s) of the request report could not be read and were skipped (${read} read): ${shown.join('; ')}` +
    `${more > 0 ? `; and ${more} more` : ''}. Senders only in those rows are unknown to this run: fix or re-download the file`
  );
}

const SKIPPED_ROWS_SHOWN = 5;

/** "TLS1_2", "TLS 1.2", "Tls12" → "TLS 1.2". */
function normaliseTls(text: string): string | null {
  const m = /tls\s*_?v?(\d)[._]?(\d)/i.exec(text);
  return m ? `TLS ${m[1]}.${m[2]}` : text === '' ? null : printable(text).slice(0, 32);
}
