/**
 * The two usage files an admin downloads, made from a simulated tenant (`exo-playbook sim
 * export-usage`), in the layouts Microsoft delivers (EXCHANGE-FACTS "Historical search", "Other
 * usage sources"):
 * - the admin center's SMTP AUTH clients report: UTF-8 with BOM, CRLF, columns Sender address,
 *   Domain, TLS 1.0 %, TLS 1.1 %, TLS 1.2 %, Messages sent, Authentication protocol (EXCHANGE-FACTS,
 *   "Other usage sources": the protocol column since 18 October 2024); no date column, so the CLI
 *   states the period it covers and sets the file's modification time to the tenant's clock, the
 *   moment of the simulated export (what a real download's time says; the usage step reads it when
 *   the playbook has no exportedAt:);
 * - the historical search's request report (SmtpCSReport): UTF-16 LE with BOM, one row per message:
 *   date, senderName, senderDomain, authMethod, original_client_ip, tls_version, tls_cipher,
 *   message_count, message_id; at most 100,000 rows (the service's cap).
 */
import { createHash } from 'node:crypto';
import { csvCell } from '../../csv-cell.js';
import type { SimSmtpAuthActivity, TenantState } from './state.js';

export type UsageExportKind = 'clients-report' | 'request-report';

const DAY_MS = 86_400_000;
export const REQUEST_REPORT_MAX_ROWS = 100_000;

/** The period an export covers: the `days` before the tenant's clock (when the admin exported it). */
export function exportPeriod(state: TenantState, days: number): { start: Date; end: Date } {
  const end = state.clock ? Date.parse(state.clock) : Date.now();
  return { start: new Date(end - days * DAY_MS), end: new Date(end) };
}

function inWindow(state: TenantState, days: number): SimSmtpAuthActivity[] {
  const clock = exportPeriod(state, days).end.getTime();
  return state.smtpAuthActivity.filter((a) => Date.parse(a.lastSeen) >= clock - days * DAY_MS && Date.parse(a.lastSeen) <= clock);
}

// Cells are written as every CSV of the product is (src/csv-cell.ts): a value from the state file that
// a spreadsheet would run as a formula is prefixed with ', which the usage readers then refuse.
const quote = csvCell;

export function clientsReportCsv(state: TenantState, days: number): Buffer {
  const rows = [['Sender address', 'Domain', 'TLS 1.0 %', 'TLS 1.1 %', 'TLS 1.2 %', 'Messages sent', 'Authentication protocol']];
  for (const a of inWindow(state, days)) {
    const tls = a.tlsVersion ?? 'TLS 1.2';
    rows.push([
      a.sender,
      a.sender.split('@')[1] ?? '',
      tls === 'TLS 1.0' ? '100' : '0',
      tls === 'TLS 1.1' ? '100' : '0',
      tls === 'TLS 1.2' ? '100' : '0',
      String(a.messages),
      a.protocol === 'Basic' ? 'Basic Authentication' : 'OAuth',
    ]);
  }
  return Buffer.from(`\uFEFF${rows.map((r) => r.map(quote).join(',')).join('\r\n')}\r\n`, 'utf8');
}

const CIPHERS: Record<string, string> = {
  'TLS 1.0': 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
  'TLS 1.1': 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
  'TLS 1.2': 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
};

export function requestReportCsv(state: TenantState, days: number): Buffer {
  const clock = state.clock ? Date.parse(state.clock) : Date.now();
  const lines = ['date,senderName,senderDomain,authMethod,original_client_ip,tls_version,tls_cipher,message_count,message_id'];
  for (const a of inWindow(state, days)) {
    const [local = '', domain = ''] = a.sender.split('@');
    const last = Date.parse(a.lastSeen);
    const first = Math.max(a.firstSeen ? Date.parse(a.firstSeen) : last, clock - days * DAY_MS);
    const tls = a.tlsVersion ?? 'TLS 1.2';
    for (let i = 0; i < a.messages && lines.length <= REQUEST_REPORT_MAX_ROWS; i++) {
      // Spread evenly from first to last seen; the last message is at lastSeen.
      const at = a.messages === 1 ? last : first + Math.round(((last - first) * i) / (a.messages - 1));
      const id = createHash('sha1').update(`${a.sender}:${i}`).digest('hex').slice(0, 16);
      lines.push(
        [new Date(at).toISOString(), local, domain, a.protocol === 'Basic' ? 'Basic' : 'OAuth', a.clientIp ?? '10.0.0.10', tls.replace(' ', '').replace('.', '_'), CIPHERS[tls] ?? '', '1', `<${id}@${domain}>`]
          .map(quote)
          .join(','),
      );
    }
  }
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf16le')]);
}
