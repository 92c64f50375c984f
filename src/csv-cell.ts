/**
 * Cells a spreadsheet would run as a formula (OWASP "CSV Injection"): text that starts with =, +, -,
 * @, a tab or a carriage return. The usage files the runner reads come from devices and exports
 * nobody vouches for, and the CSVs it writes are opened in spreadsheets by the people chasing device
 * owners. So:
 * - a reader refuses such a cell where an address belongs (csv readers, `refuseFormulaCell` in
 *   src/actions/smtp-auth/usage/csv.ts), at its file:line:col;
 * - every CSV the product writes spells each cell with `csvCell`: a formula-like cell is prefixed
 *   with ' (the spreadsheet then shows it as text), and a cell with a separator, quote or line break
 *   is quoted (RFC 4180).
 */

/** True when a spreadsheet would run the cell as a formula. */
export function looksLikeFormula(cell: string): boolean {
  return /^[=+\-@\t\r]/.test(cell);
}

/** One cell of a written CSV: neutralised, then quoted when it needs quotes. */
export function csvCell(value: string): string {
  const safe = looksLikeFormula(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
