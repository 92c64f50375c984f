/**
 * Reads the Exchange admin center's "SMTP AUTH clients report" as exported to CSV (Reports > Mail
 * flow). Exports differ by date and locale settings, so columns are found by name variants; a file
 * that is not that report fails with the file, line and column, and what was expected.
 */
import { InputError } from '../../../errors.js';
import { CsvSyntaxError, parseCsv, type CsvRecord } from './csv.js';
import { mergeUsageRows, parseProtocol, type UsageRow } from './usage-table.js';

type Column = 'sender' | 'protocol' | 'messages' | 'lastSeen';

/** Header names as exports spell them, compared lower-case without spaces, dashes or underscores. */
const COLUMN_NAMES: Record<Column, string[]> = {
  sender: ['senderaddress', 'sender', 'user', 'userprincipalname', 'emailaddress', 'mailbox'],
  protocol: ['authenticationprotocol', 'authprotocol', 'authentication', 'protocol', 'authenticationmethod'],
  messages: ['messagessent', 'messagecount', 'messages', 'totalmessages', 'count', 'messagessentcount'],
  lastSeen: ['lastseen', 'lastactivity', 'lastactivitydate', 'lastsent', 'lastseendate', 'date'],
};

const squash = (name: string): string => name.toLowerCase().replace(/\([^)]*\)/g, '').replace(/[\s_-]/g, '');

export function readClientsReport(text: string, file: string): UsageRow[] {
  let records: CsvRecord[];
  try {
    records = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvSyntaxError) {
      throw new InputError(`not a readable CSV: ${error.message}`, { file, line: error.line, col: error.col }, 'export the report again from the admin center');
    }
    throw error;
  }
  const header = records[0];
  if (!header) throw new InputError('the SMTP AUTH clients report is empty', { file, line: 1, col: 1 }, 'export the report from Reports > Mail flow > SMTP AUTH clients report');
  const at = findColumns(header, file);
  const rows: UsageRow[] = [];
  for (const record of records.slice(1)) {
    const field = (c: Column) => (at[c] === undefined ? undefined : (record.fields[at[c]!] ?? '').trim());
    const where = (c: Column) => ({ file, line: record.line, col: record.cols[at[c]!] ?? 1 });
    const sender = field('sender') ?? '';
    if (sender === '') continue; // totals and footer lines have no sender
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(sender)) {
      throw new InputError(`'${sender}' is not a sender address`, where('sender'), 'each row of the report names one sender address');
    }
    const messagesText = (field('messages') ?? '').replace(/[\s,.'\u00a0](?=\d{3}\b)/g, '');
    if (!/^\d+$/.test(messagesText)) {
      throw new InputError(`'${field('messages')}' is not a message count (sender ${sender})`, where('messages'), 'the message count column must hold whole numbers');
    }
    const lastSeen = field('lastSeen');
    rows.push({
      sender: sender.toLowerCase(),
      protocol: parseProtocol(field('protocol') ?? ''),
      messages: Number(messagesText),
      lastSeen: lastSeen ? normaliseDate(lastSeen) : null,
    });
  }
  return mergeUsageRows(rows);
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
    throw new InputError(
      `not an SMTP AUTH clients report: no ${missing.join(' or ')} column (found: ${header.fields.map((f) => `"${f}"`).join(', ')})`,
      { file, line: header.line, col: 1 },
      'export Reports > Mail flow > SMTP AUTH clients report as CSV, and point `report:` at that file',
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
