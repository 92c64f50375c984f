/**
 * Graph's email app usage report: which users used an SMTP app in the period.
 *   GET /v1.0/reports/getEmailAppUsageUserDetail(period='D7|D30|D90|D180') (Reports.Read.All)
 *   https://learn.microsoft.com/en-us/graph/api/reportroot-getemailappusageuserdetail: the answer is
 *   302 Found to a pre-authenticated download URL (Location), fetched without the Authorization
 *   header; the CSV has one row per user with "User Principal Name", "Last Activity Date", ...,
 *   "SMTP App".
 * No auth type and no counts. When the tenant's report setting conceals names
 * (adminReportSettings.displayConcealedNames, https://learn.microsoft.com/en-us/graph/api/resources/adminreportsettings;
 * Microsoft 365 admin center > Settings > Org settings > Reports > "Display concealed user, group,
 * and site names in all reports"), user names arrive as hashes: those users cannot be resolved.
 */
import type { GraphClient } from '../../../graph/client.js';
import { GraphError } from '../../../graph/client.js';
import { getWithRetry, type RequestPolicy } from '../../../graph/requests.js';
import { CsvSyntaxError, detectSeparator, parseCsv } from './csv.js';
import type { SenderEvidence, SourceReading } from './evidence.js';

export type ReportPeriod = 'D7' | 'D30' | 'D90' | 'D180';

export const CONCEALED_ADVICE =
  'the tenant conceals user names in usage reports: in the Microsoft 365 admin center, Settings > Org settings > Reports, clear "Display concealed user, group, and site names in all reports" (needs a Global or Reports administrator; it changes every usage report), or rely on the other sources';

/** A concealed name is a hex hash (Microsoft shows e.g. 32 upper-case hex digits) instead of a UPN. */
export function isConcealedName(name: string): boolean {
  return !name.includes('@') && /^[0-9a-f]{16,64}$/i.test(name);
}

export async function emailAppUsageEvidence(graph: GraphClient, period: ReportPeriod, policy: RequestPolicy): Promise<SourceReading> {
  const path = `/v1.0/reports/getEmailAppUsageUserDetail(period='${period}')`;
  const first = await getWithRetry(graph, path, policy, (r) =>
    r.status === 403 || r.status === 401 ? 'The app needs the Microsoft Graph application permission Reports.Read.All, with admin consent' : undefined,
  );
  let csv = first.body;
  if (first.status >= 300 && first.status < 400) {
    const location = first.headers.location;
    if (!location) throw new GraphError(`Microsoft Graph answered ${first.status} for ${path} without a Location to download the report from`, first.status, 'malformed');
    const download = await graph.download(location, policy.signal);
    if (download.status !== 200) throw new GraphError(`downloading the email app usage report failed: HTTP ${download.status}`, download.status, 'download-failed');
    csv = download.body;
  }
  return parseEmailAppUsage(csv, `${graph.baseUrl}${path}`, period);
}

export function parseEmailAppUsage(csv: string, label: string, period: ReportPeriod): SourceReading {
  let records;
  try {
    records = parseCsv(csv, detectSeparator(csv));
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw new GraphError(`the email app usage report is not a readable CSV: ${error.message} (line ${error.line}, column ${error.col})`, 200, 'malformed');
    throw error;
  }
  const header = records[0];
  const names = (header?.fields ?? []).map((f) => f.trim().toLowerCase());
  const upnAt = names.indexOf('user principal name');
  const smtpAt = names.indexOf('smtp app');
  const lastAt = names.indexOf('last activity date');
  const refreshAt = names.indexOf('report refresh date');
  let refreshed: string | null = null;
  if (!header || upnAt < 0 || smtpAt < 0) {
    throw new GraphError(
      `the email app usage report has no ${upnAt < 0 ? '"User Principal Name"' : '"SMTP App"'} column (line 1; found: ${(header?.fields ?? []).slice(0, 8).map((f) => `"${f}"`).join(', ')})`,
      200,
      'malformed',
    );
  }
  const senders: SenderEvidence[] = [];
  let concealed = 0;
  for (const record of records.slice(1)) {
    // Every row carries the date Microsoft last refreshed the report: the end of the period it covers.
    const refresh = (record.fields[refreshAt] ?? '').trim();
    if (refreshAt >= 0 && /^\d{4}-\d{2}-\d{2}$/.test(refresh) && (refreshed === null || refresh > refreshed)) refreshed = refresh;
    const used = (record.fields[smtpAt] ?? '').trim().toLowerCase();
    if (!['yes', 'true', '1'].includes(used)) continue;
    const upn = (record.fields[upnAt] ?? '').trim();
    if (isConcealedName(upn)) {
      concealed++;
      continue;
    }
    if (!/^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u.test(upn)) continue;
    const last = (record.fields[lastAt] ?? '').trim();
    senders.push({
      sender: upn.toLowerCase(),
      protocols: ['Unknown'],
      messages: null,
      firstSeen: null,
      // "Last Activity Date" is one date per user across every email app, not when SMTP was last used.
      lastSeen: null,
      lastEmailAppActivity: /^\d{4}-\d{2}-\d{2}/.test(last) ? last.slice(0, 10) : null,
      clientIps: [],
      tlsVersions: [],
    });
  }
  const days = Number(period.slice(1));
  return {
    source: 'email-app-usage',
    label,
    window: refreshed
      ? `${new Date(Date.parse(refreshed) - days * 86_400_000).toISOString().slice(0, 10)}..${refreshed} (period ${period}, from the data: Report Refresh Date ${refreshed})`
      : `the last ${days} days (period ${period}); the report had no rows to date it`,
    ...(refreshed
      ? { windowStart: new Date(Date.parse(refreshed) - days * 86_400_000).toISOString(), windowEnd: new Date(Date.parse(refreshed)).toISOString(), periodFrom: `from the data (Report Refresh Date ${refreshed}, period ${period})` }
      : {}),
    blindSpots: [
      'no authentication type (Basic or OAuth) and no message counts',
      'no SMTP date: "Last Activity Date" is the last activity in any email app, and the report lags a few days',
    ],
    complete: concealed === 0,
    senders,
    warnings: concealed ? [`email app usage: ${concealed} SMTP App user(s) have concealed names and cannot be matched to a mailbox; ${CONCEALED_ADVICE}`] : [],
  };
}
