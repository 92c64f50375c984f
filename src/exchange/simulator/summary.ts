/** A short description of a simulated tenant, for `sim init` and `sim show`. */
import type { TenantState } from './state.js';

export interface TenantSummary {
  organization: string;
  orgSmtpAuthDisabled: boolean;
  mailboxes: number;
  byType: Record<string, number>;
  explicitEnabled: number;
  explicitDisabled: number;
  followingOrganization: number;
  senders: number;
  basicSenders: number;
  /** Graph's view (absent without `graph` in the state): sign-in records, and the users they name. */
  graph?: { signIns: number; signInUsers: number; failedSignIns: number; entraPremium: boolean; concealedNames: boolean };
  oauthSenders: number;
  sendersWithExplicitFalse: number;
  sendersFollowingOrganization: number;
  historicalSearches: number;
  /** The simulated clock, or null for the real clock. */
  clock: string | null;
  /** Fault knobs that are set, e.g. { throttleEveryN: 3 }. */
  faults: Record<string, number>;
}

export function summarizeTenant(state: TenantState): TenantSummary {
  const byType: Record<string, number> = {};
  const switchByAddress = new Map<string, boolean | null>();
  let explicitEnabled = 0;
  let explicitDisabled = 0;
  for (const m of state.mailboxes) {
    byType[m.RecipientTypeDetails] = (byType[m.RecipientTypeDetails] ?? 0) + 1;
    if (m.SmtpClientAuthenticationDisabled === false) explicitEnabled++;
    else if (m.SmtpClientAuthenticationDisabled === true) explicitDisabled++;
    switchByAddress.set(m.PrimarySmtpAddress.toLowerCase(), m.SmtpClientAuthenticationDisabled);
  }
  const activity = state.smtpAuthActivity;
  return {
    organization: state.organization.Name,
    orgSmtpAuthDisabled: state.transportConfig.SmtpClientAuthenticationDisabled,
    mailboxes: state.mailboxes.length,
    byType,
    explicitEnabled,
    explicitDisabled,
    followingOrganization: state.mailboxes.length - explicitEnabled - explicitDisabled,
    senders: activity.length,
    basicSenders: activity.filter((a) => a.protocol === 'Basic').length,
    oauthSenders: activity.filter((a) => a.protocol === 'OAuth').length,
    sendersWithExplicitFalse: activity.filter((a) => switchByAddress.get(a.sender.toLowerCase()) === false).length,
    sendersFollowingOrganization: activity.filter((a) => switchByAddress.get(a.sender.toLowerCase()) === null).length,
    historicalSearches: state.historicalSearches.length,
    ...(state.graph
      ? {
          graph: {
            signIns: state.graph.signIns.length,
            signInUsers: new Set(state.graph.signIns.map((x) => x.userPrincipalName.toLowerCase())).size,
            failedSignIns: state.graph.signIns.filter((x) => x.status.errorCode !== 0).length,
            entraPremium: state.graph.entraPremium !== false,
            concealedNames: state.graph.concealedNames === true,
          },
        }
      : {}),
    clock: state.clock,
    faults: Object.fromEntries(Object.entries(state.faults ?? {}).filter(([, v]) => typeof v === 'number' && v > 0)) as Record<string, number>,
  };
}

export function describeTenant(s: TenantSummary): string {
  const types = Object.entries(s.byType)
    .sort((a, b) => b[1] - a[1])
    .map(([type, n]) => `${n} ${type}`)
    .join(', ');
  return (
    `${s.organization}: SMTP AUTH is ${s.orgSmtpAuthDisabled ? 'OFF' : 'ON'} for the organization ` +
    `(SmtpClientAuthenticationDisabled ${s.orgSmtpAuthDisabled ? '$true' : '$false'}). ` +
    `${s.mailboxes} mailboxes (${types}); ` +
    `${s.explicitEnabled} with an explicit $false (SMTP AUTH on), ${s.explicitDisabled} with an explicit $true, ` +
    `${s.followingOrganization} following the organization ($null). ` +
    `${s.senders} SMTP AUTH senders in the activity data (${s.basicSenders} Basic, ${s.oauthSenders} OAuth): ` +
    `${s.sendersWithExplicitFalse} with an explicit $false, ${s.sendersFollowingOrganization} following the organization` +
    `${s.historicalSearches ? `; ${s.historicalSearches} historical searches on record` : ''}.` +
    (s.graph
      ? ` Graph: ${s.graph.signIns} SMTP sign-ins of ${s.graph.signInUsers} users (${s.graph.failedSignIns} failed)` +
        `${s.graph.entraPremium ? '' : ', no Entra ID P1/P2 (sign-in logs refused)'}${s.graph.concealedNames ? ', report names concealed' : ''}.`
      : '') +
    (s.clock ? ` Simulated clock: ${s.clock}.` : '') +
    (Object.keys(s.faults).length
      ? ` Fault knobs: ${Object.entries(s.faults)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}.`
      : '')
  );
}
