/**
 * Entra sign-in logs through Microsoft Graph: every Basic-auth SMTP sign-in, successful or failed.
 *   GET /v1.0/auditLogs/signIns?$filter=clientAppUsed eq 'Authenticated SMTP' and createdDateTime ge <ISO>
 *   https://learn.microsoft.com/en-us/graph/api/signin-list (pages of up to 1,000, newest first,
 *   AuditLog.Read.All + Directory.Read.All) and https://learn.microsoft.com/en-us/graph/api/resources/signin
 *   ("You must have a Microsoft Entra ID P1 or P2 license to download sign-in logs by using the
 *   Microsoft Graph API"; clientAppUsed supports $filter eq).
 * Only Basic sign-ins appear as "Authenticated SMTP" (an OAuth client shows as its app's token
 * sign-ins), so every sender here is Basic. Failures are kept: a device failing now is already broken.
 */
import type { GraphClient, GraphResponse } from '../../../graph/client.js';
import { graphErrorBody, getAllPages, printable, type RequestPolicy } from '../../../graph/requests.js';
import { earliest, latest, type SenderEvidence, type SourceReading } from './evidence.js';

/** Sign-in logs are kept 30 days with P1/P2 (7 on free tenants, which cannot call this API at all). */
export const SIGN_IN_RETENTION_DAYS = 30;

export const LICENCE_TEXT = "Neither tenant is B2C or tenant doesn't have premium license";

export function signInLogsPath(since: Date): string {
  const filter = `clientAppUsed eq 'Authenticated SMTP' and createdDateTime ge ${since.toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
  return `/v1.0/auditLogs/signIns?$filter=${encodeURIComponent(filter)}`;
}

export function explainSignInError(response: GraphResponse): string | undefined {
  const { code, message } = graphErrorBody(response.body);
  if (message.includes(LICENCE_TEXT) || /NonPremiumTenant/i.test(code)) {
    return 'Reading sign-in logs through Graph needs a Microsoft Entra ID P1 or P2 licence in the tenant. Assign one, or drop signInLogs from the usage step and use the admin center CSV (report:) or the request report (requestReport:) instead';
  }
  if (response.status === 403 || response.status === 401) {
    return 'The app needs the Microsoft Graph application permissions AuditLog.Read.All and Directory.Read.All, with admin consent';
  }
  return undefined;
}

interface SignIn {
  createdDateTime: string;
  userPrincipalName: string;
  ipAddress: string;
  failed: boolean;
}

export async function signInLogsEvidence(graph: GraphClient, days: number, now: Date, policy: RequestPolicy): Promise<SourceReading> {
  const since = new Date(now.getTime() - days * 86_400_000);
  const path = signInLogsPath(since);
  const result = await getAllPages<SignIn>(graph, path, policy, toSignIn, explainSignInError);
  const bySender = new Map<string, SenderEvidence>();
  let skipped = 0;
  for (const signIn of result.items) {
    const sender = signIn.userPrincipalName.toLowerCase();
    // Data from the service is still data: no control characters or spaces reach the reports.
    if (!/^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u.test(sender)) {
      skipped++;
      continue;
    }
    const seen = bySender.get(sender) ?? { sender, protocols: ['Basic'], messages: null, firstSeen: null, lastSeen: null, clientIps: [], tlsVersions: [], failures: 0 };
    seen.firstSeen = earliest(seen.firstSeen, signIn.createdDateTime);
    seen.lastSeen = latest(seen.lastSeen, signIn.createdDateTime);
    if (signIn.ipAddress && !seen.clientIps.includes(signIn.ipAddress)) seen.clientIps.push(signIn.ipAddress);
    if (signIn.failed) seen.failures = (seen.failures ?? 0) + 1;
    bySender.set(sender, seen);
  }
  const unreadable = result.unreadable;
  const warnings = [
    ...(result.stoppedEarly ? [`sign-in logs: ${result.stoppedEarly}`] : []),
    ...(unreadable ? [`sign-in logs: ${unreadable} record(s) without a valid createdDateTime were skipped`] : []),
    ...(skipped ? [`sign-in logs: ${skipped} sign-in(s) without a usable user principal name were skipped`] : []),
  ];
  return {
    source: 'entra-sign-ins',
    label: `${graph.baseUrl}/v1.0/auditLogs/signIns (${result.items.length} sign-in(s), ${result.pages} page(s))`,
    window: `${since.toISOString().slice(0, 10)}..${now.toISOString().slice(0, 10)} (${days} day(s); logs are kept ${SIGN_IN_RETENTION_DAYS} days with Entra ID P1/P2)`,
    blindSpots: ['Basic-auth sign-ins only: OAuth SMTP clients appear as their app\'s token sign-ins', 'no message counts and no TLS versions'],
    complete: result.stoppedEarly === null && unreadable === 0 && skipped === 0,
    senders: [...bySender.values()],
    warnings,
  };
}

function toSignIn(raw: unknown): SignIn | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as { createdDateTime?: unknown; userPrincipalName?: unknown; ipAddress?: unknown; status?: { errorCode?: unknown } };
  if (typeof r.createdDateTime !== 'string' || Number.isNaN(Date.parse(r.createdDateTime))) return undefined;
  return {
    createdDateTime: new Date(r.createdDateTime).toISOString(),
    userPrincipalName: typeof r.userPrincipalName === 'string' ? r.userPrincipalName : '',
    ipAddress: typeof r.ipAddress === 'string' ? printable(r.ipAddress).slice(0, 64) : '',
    // errorCode 0 is success (signInStatus); anything else is a failed sign-in.
    failed: typeof r.status?.errorCode === 'number' && r.status.errorCode !== 0,
  };
}
