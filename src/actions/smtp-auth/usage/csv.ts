/**
 * RFC 4180 CSV with positions: quoted fields may hold separators, doubled quotes and newlines; a
 * BOM and CRLF or LF line ends are accepted. The separator is a comma or, as locales with a decimal
 * comma export it, a semicolon (detectSeparator reads the header line). Every record keeps the line its fields start on, so
 * errors about a row can name file:line:col.
 */

import { InputError, type SourceLocation } from '../../../errors.js';
import { looksLikeFormula } from '../../../csv-cell.js';
import { printable } from '../../../graph/requests.js';

/**
 * Refuses a cell a spreadsheet would run as a formula (src/csv-cell.ts) where an address belongs, at
 * its file:line:col. Such text (`=cmd|' /C calc'!A0@x.com` is a well-formed address) never names a
 * sender in an export Microsoft made; it was put there.
 */
export function refuseFormulaCell(cell: string, where: SourceLocation, what: string): void {
  if (!looksLikeFormula(cell)) return;
  throw new InputError(
    `'${printable(cell)}' starts like a spreadsheet formula (=, +, -, @): refused where ${what} belongs`,
    where,
    'export the report again from its source; a file edited in a spreadsheet or made by hand may carry formulas',
  );
}

export interface CsvRecord {
  /** 1-based line of the record's first character. */
  line: number;
  fields: string[];
  /** 1-based column of each field's first character (on the record's first line for quoted fields). */
  cols: number[];
}

export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(message);
  }
}

export type CsvSeparator = ',' | ';' | '\t';

/** The separator the header line uses most outside quotes (comma when tied or none). */
export function detectSeparator(text: string): CsvSeparator {
  const counts = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\n' || c === '\r')) break;
    else if (!quoted && (c === ',' || c === ';' || c === '\t')) counts[c]++;
  }
  if (counts[';'] > counts[','] && counts[';'] >= counts['\t']) return ';';
  if (counts['\t'] > counts[','] && counts['\t'] > counts[';']) return '\t';
  return ',';
}

export function parseCsv(text: string, separator: CsvSeparator = ','): CsvRecord[] {
  const records: CsvRecord[] = [];
  const sep = separator.charCodeAt(0);
  const QUOTE = 34;
  const LF = 10;
  const CR = 13;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let lineStart = i;
  while (i < text.length) {
    const record: CsvRecord = { line, fields: [], cols: [] };
    for (;;) {
      record.cols.push(i - lineStart + 1);
      let field: string;
      if (text.charCodeAt(i) === QUOTE) {
        const openLine = line;
        const openCol = i - lineStart + 1;
        const parts: string[] = [];
        i++;
        for (;;) {
          const close = text.indexOf('"', i);
          if (close < 0) throw new CsvSyntaxError('a quoted field is never closed', openLine, openCol);
          const chunk = text.slice(i, close);
          // Newlines inside the quotes still count as lines of the file.
          for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', nl + 1)) {
            line++;
            lineStart = i + nl + 1;
          }
          parts.push(chunk);
          if (text.charCodeAt(close + 1) === QUOTE) {
            parts.push('"');
            i = close + 2;
            continue;
          }
          i = close + 1;
          break;
        }
        field = parts.join('');
        const c = text.charCodeAt(i);
        if (i < text.length && c !== sep && c !== LF && c !== CR) {
          throw new CsvSyntaxError('unexpected text after a closing quote (quotes inside a field are doubled: "")', line, i - lineStart + 1);
        }
      } else {
        const start = i;
        for (let c = text.charCodeAt(i); i < text.length && c !== sep && c !== LF && c !== CR; c = text.charCodeAt(++i));
        field = text.slice(start, i);
      }
      record.fields.push(field);
      if (text.charCodeAt(i) === sep) {
        i++;
        continue;
      }
      if (text.charCodeAt(i) === CR) i++;
      if (text.charCodeAt(i) === LF) i++;
      line++;
      lineStart = i;
      break;
    }
    // Blank lines are not records.
    if (!(record.fields.length === 1 && record.fields[0] === '')) records.push(record);
  }
  return records;
}
