/**
 * Microsoft Graph answered from a simulated tenant's state file (docs/STATE-FILE.md, `graph`), so the
 * demo and the tests read sign-in logs and the email app usage report with no network. It answers at
 * the HTTP level (status, headers, JSON/CSV bodies) like the service, so the code above it (paging,
 * throttling, error meaning) is the same code that runs against the real one:
 * - signIns: pages of SIM_PAGE_SIZE, newest first, @odata.nextLink with a $skiptoken; without Entra
 *   ID P1/P2 (`graph.entraPremium: false`) the licence error the service gives;
 * - getEmailAppUsageUserDetail: 302 to a download URL, then the CSV (UTF-8 with BOM), user names
 *   hashed when `graph.concealedNames` is true.
 */
import { createHash } from 'node:crypto';
import { readStateFile } from '../exchange/simulator/state-file.js';
import type { TenantState } from '../exchange/simulator/state.js';
import type { GraphClient, GraphResponse } from './client.js';

export const SIM_GRAPH_BASE_URL = 'https://graph.simulated.invalid';
export const SIM_PAGE_SIZE = 50;
const DOWNLOAD = 'https://reports.simulated.invalid/emailAppUsage';

export class SimulatedGraphClient implements GraphClient {
  readonly baseUrl = SIM_GRAPH_BASE_URL;
  private state: Promise<TenantState> | undefined;
  private requests = 0;

  constructor(private readonly load: () => Promise<TenantState>) {}

  static forStateFile(file: string): SimulatedGraphClient {
    return new SimulatedGraphClient(() => readStateFile(file));
  }

  private tenant(): Promise<TenantState> {
    this.state ??= this.load();
    return this.state;
  }

  async get(pathOrUrl: string): Promise<GraphResponse> {
    const state = await this.tenant();
    this.requests++;
    if (state.graph?.throttleRequest === this.requests) {
      return json(429, { error: { code: 'TooManyRequests', message: 'Too many requests' } }, { 'retry-after': '1' });
    }
    let url: URL;
    try {
      url = new URL(pathOrUrl, this.baseUrl);
    } catch {
      return json(400, { error: { code: 'BadRequest', message: 'not a URL' } });
    }
    if (url.origin !== this.baseUrl) return json(400, { error: { code: 'BadRequest', message: `not this service: ${url.origin}` } });
    if (url.pathname === '/v1.0/auditLogs/signIns') return this.signIns(state, url);
    const report = /^\/v1\.0\/reports\/getEmailAppUsageUserDetail\(period='(D7|D30|D90|D180)'\)$/.exec(decodeURIComponent(url.pathname));
    if (report) return { status: 302, headers: { location: `${DOWNLOAD}?period=${report[1]}` }, body: '' };
    return json(404, { error: { code: 'ResourceNotFound', message: `Resource not found for the segment '${url.pathname}'.` } });
  }

  async download(url: string): Promise<GraphResponse> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { status: 404, headers: {}, body: '' };
    }
    if (`${parsed.origin}${parsed.pathname}` !== DOWNLOAD) return { status: 404, headers: {}, body: '' };
    const period = parsed.searchParams.get('period') ?? 'D180';
    return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: emailAppUsageCsv(await this.tenant(), period) };
  }

  private signIns(state: TenantState, url: URL): GraphResponse {
    if (state.graph?.entraPremium === false) {
      // The service's answer without Entra ID P1/P2 (EXCHANGE-FACTS; observed text).
      return json(403, { error: { code: 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', message: "Neither tenant is B2C or tenant doesn't have premium license" } });
    }
    const filter = url.searchParams.get('$filter') ?? '';
    const since = /createdDateTime ge (\S+)/.exec(filter)?.[1];
    const app = /clientAppUsed eq '([^']*)'/.exec(filter)?.[1];
    const clock = state.clock ? Date.parse(state.clock) : Date.now();
    const matching = (state.graph?.signIns ?? [])
      .filter((s) => (app === undefined || s.clientAppUsed === app) && (since === undefined || Date.parse(s.createdDateTime) >= Date.parse(since)))
      // Retention: 30 days with P1/P2 (https://learn.microsoft.com/en-us/graph/api/signin-list).
      .filter((s) => Date.parse(s.createdDateTime) >= clock - 30 * 86_400_000 && Date.parse(s.createdDateTime) <= clock)
      .sort((a, b) => b.createdDateTime.localeCompare(a.createdDateTime));
    const skip = Number(url.searchParams.get('$skiptoken') ?? '0') || 0;
    const page = matching.slice(skip, skip + SIM_PAGE_SIZE);
    const body: Record<string, unknown> = { '@odata.context': `${this.baseUrl}/v1.0/$metadata#auditLogs/signIns`, value: page };
    if (skip + SIM_PAGE_SIZE < matching.length) {
      const next = new URL(url.toString());
      next.searchParams.set('$skiptoken', String(skip + SIM_PAGE_SIZE));
      body['@odata.nextLink'] = next.toString();
    }
    return json(200, body);
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): GraphResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

const APP_COLUMNS = ['Mail For Mac', 'Outlook For Mac', 'Outlook For Windows', 'Outlook For Mobile', 'Other For Mobile', 'Outlook For Web', 'POP3 App', 'IMAP4 App', 'SMTP App'];

/** The report's CSV: every mailbox user, "Yes" under SMTP App for those who submitted by SMTP in the period. */
export function emailAppUsageCsv(state: TenantState, period: string): string {
  const clock = state.clock ? new Date(state.clock) : new Date();
  const days = Number(period.slice(1)) || 180;
  const since = clock.getTime() - days * 86_400_000;
  const lastSmtp = new Map<string, string>();
  const note = (upn: string, at: string) => {
    const key = upn.toLowerCase();
    if (Date.parse(at) < since) return;
    if (!lastSmtp.has(key) || at > lastSmtp.get(key)!) lastSmtp.set(key, at);
  };
  const upnOf = new Map(state.mailboxes.flatMap((m) => [[m.PrimarySmtpAddress.toLowerCase(), m.UserPrincipalName] as const, [m.UserPrincipalName.toLowerCase(), m.UserPrincipalName] as const]));
  for (const a of state.smtpAuthActivity) note(upnOf.get(a.sender.toLowerCase()) ?? a.sender, a.lastSeen);
  for (const s of state.graph?.signIns ?? []) if (s.status.errorCode === 0) note(s.userPrincipalName, s.createdDateTime);
  const conceal = state.graph?.concealedNames === true;
  const name = (upn: string) => (conceal ? createHash('md5').update(upn.toLowerCase()).digest('hex').toUpperCase() : upn);
  const refresh = new Date(clock.getTime() - 2 * 86_400_000).toISOString().slice(0, 10);
  const lines = [['Report Refresh Date', 'User Principal Name', 'Display Name', 'Is Deleted', 'Deleted Date', 'Last Activity Date', ...APP_COLUMNS, 'Report Period'].join(',')];
  for (const m of state.mailboxes) {
    if (m.RecipientTypeDetails !== 'UserMailbox') continue;
    const smtp = lastSmtp.get(m.UserPrincipalName.toLowerCase());
    // "Last Activity Date" is one date per user across every email app (Graph's
    // reportroot-getemailappusageuserdetail; EXCHANGE-FACTS "Other usage sources"): here the later of
    // the SMTP submission and the user's Outlook on the web use (a fixed day in the report's last week).
    const webDay = createHash('md5').update(m.UserPrincipalName.toLowerCase()).digest()[0]! % 5;
    const web = new Date(Date.parse(refresh) - webDay * 86_400_000).toISOString().slice(0, 10);
    const lastActivity = smtp && smtp.slice(0, 10) > web ? smtp.slice(0, 10) : web;
    const apps = APP_COLUMNS.map((c) => (c === 'SMTP App' ? (smtp ? 'Yes' : '') : c === 'Outlook For Web' ? 'Yes' : ''));
    lines.push([refresh, name(m.UserPrincipalName), conceal ? name(m.DisplayName) : `"${m.DisplayName.replaceAll('"', '""')}"`, 'False', '', lastActivity, ...apps, String(days)].join(','));
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
