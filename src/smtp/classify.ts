/**
 * What a probe's answer means, from the server's exact line (kept as evidence). Pure. Texts are
 * Exchange Online's (shared/EXCHANGE-FACTS.md "What a mail client sees"):
 * - 235: accepted (RFC 4954 section 6).
 * - `535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.`
 *   / `... for the Mailbox.`: the SMTP AUTH switches (Microsoft Learn, "Enable or disable SMTP AUTH
 *   in Exchange Online"; aka.ms/smtp_auth_disabled).
 * - `535 5.7.139 Authentication unsuccessful, basic authentication is disabled.` (observed in public
 *   reports, e.g. odysseus-dev/odysseus#197, TideDra/zotero-arxiv-daily#46; not in Microsoft's docs):
 *   Basic is blocked for the account by an authentication policy or the tenant-level Basic block.
 *   Security defaults and Conditional Access have replies of their own:
 * - `535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults
 *   policy. Contact your administrator.` (observed): Entra security defaults.
 * - `535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be
 *   authenticated successfully. Contact your administrator.` (observed): a Conditional Access policy.
 * - `535 5.7.3 Authentication unsuccessful [server]`: wrong credentials, or a failed XOAUTH2 token
 *   ([MS-SMTPNTLM] 2.2.1.4; EXCHANGE-FACTS).
 * - `550 5.7.30 Basic authentication is not supported for Client Submission.`: Basic retired
 *   (Exchange Team blog, April 2024, "Exchange Online to retire Basic auth for Client Submission").
 * - `504 5.7.4 Unrecognized authentication type`: a mechanism the endpoint does not take (AUTH PLAIN
 *   at smtp.office365.com, which advertises only `AUTH LOGIN XOAUTH2`).
 * `530 5.7.57 Client not authenticated to send mail` answers MAIL FROM, which a probe never sends:
 * it is no outcome here. No reply text is published for Microsoft's December 2026 default either,
 * so no outcome names it (probe.ts words that inference as a likelihood).
 * Real lines carry a trailer such as `[BN6PR03CA0021.namprd03.prod.outlook.com 2024-04-13T15:44:48Z
 * 08DC...]`; the patterns match the stable part and the evidence keeps the whole line. Anything else
 * is `unknown`, reported verbatim: never guessed.
 *
 * A probe that reached no server (DNS, connect, timeout, TLS) has no outcome at all: it is
 * `unreachable`, which the step and the command turn into an error (exit 1), never a finding or drift.
 * A mechanism the server did not advertise is never tried: `not-offered`, also an error.
 */
import type { ProbeAnswer, ProbeMechanism } from './types.js';

export const PROBE_OUTCOMES = [
  'accepted',
  'tenant-disabled',
  'mailbox-disabled',
  'basic-auth-blocked',
  'security-defaults',
  'conditional-access',
  'bad-credentials',
  'basic-retired',
  'mechanism-refused',
  'unknown',
] as const;
export type ProbeOutcome = (typeof PROBE_OUTCOMES)[number];

/** The server answered AUTH. */
export interface ClassifiedAnswer {
  kind: 'answer';
  outcome: ProbeOutcome;
  /** The server's exact line. */
  evidence: string;
  /** What the outcome means for a device, in an admin's words. */
  meaning: string;
}

export type UnreachableReason = 'dns' | 'connect' | 'timeout' | 'tls' | 'broken';

/** No server answered AUTH: the network, the name, TLS or a dropped connection. Never a finding. */
export interface UnreachableServer {
  kind: 'unreachable';
  reason: UnreachableReason;
  /** The transport failure as `<code>: <message>`. */
  evidence: string;
  meaning: string;
}

/** The asked mechanism is not among those EHLO advertised after STARTTLS: nothing was sent. */
export interface MechanismNotOffered {
  kind: 'not-offered';
  mechanism: ProbeMechanism;
  offered: string[];
  /** The server's AUTH line (or that it advertised none). */
  evidence: string;
}

export type ProbeVerdict = ClassifiedAnswer | UnreachableServer | MechanismNotOffered;

export const OUTCOME_MEANING: Record<ProbeOutcome, string> = {
  accepted: 'the server accepted the sign-in: a device with these credentials can submit mail',
  'tenant-disabled': 'SMTP AUTH is off for the organization (Set-TransportConfig -SmtpClientAuthenticationDisabled $true) and the mailbox follows it',
  'mailbox-disabled': 'SMTP AUTH is off for this mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled $true)',
  'basic-auth-blocked':
    'Basic authentication is disabled for this account: an authentication policy (AllowBasicAuthSmtp $false) or the tenant-level block of Basic; app passwords do not help',
  'security-defaults': 'Entra security defaults block this sign-in (they block legacy authentication such as Basic SMTP AUTH)',
  'conditional-access': 'a Conditional Access policy refused this sign-in (for example one that blocks legacy authentication); the Entra sign-in logs name the policy',
  'bad-credentials': 'the user name or password (or token) was not accepted',
  'basic-retired': 'Microsoft no longer accepts Basic authentication for client submission',
  'mechanism-refused': 'the server does not take this authentication mechanism (Exchange Online takes AUTH LOGIN for Basic and XOAUTH2 for OAuth)',
  unknown: 'an answer this tool does not know: read the evidence line',
};

const SERVER_PATTERNS: readonly [ProbeOutcome, RegExp][] = [
  ['accepted', /^235[ -]/],
  ['tenant-disabled', /^535[ -]5\.7\.139\b.*SmtpClientAuthentication is disabled for the Tenant/i],
  ['mailbox-disabled', /^535[ -]5\.7\.139\b.*SmtpClientAuthentication is disabled for the Mailbox/i],
  ['basic-auth-blocked', /^535[ -]5\.7\.139\b.*basic authentication is disabled/i],
  ['security-defaults', /^535[ -]5\.7\.139\b.*security defaults policy/i],
  ['conditional-access', /^535[ -]5\.7\.139\b.*did not meet the criteria to be authenticated successfully/i],
  ['bad-credentials', /^535[ -]5\.7\.3\b/],
  ['basic-retired', /^550[ -]5\.7\.30\b.*Basic authentication is not supported for Client Submission/i],
  ['mechanism-refused', /^504[ -]5\.7\.4\b/],
];

/** Transport failure codes the real client reports (client.ts normalises them). */
const UNREACHABLE: Record<string, UnreachableReason> = {
  DNS: 'dns',
  CONNECT: 'connect',
  ECONNREFUSED: 'connect',
  TIMEOUT: 'timeout',
  TLS: 'tls',
};

export const UNREACHABLE_MEANING: Record<UnreachableReason, string> = {
  dns: 'the host name did not resolve',
  connect: 'the connection failed (nothing listens there, a firewall rejects it, or no route)',
  timeout: 'the server did not answer in time',
  tls: 'the TLS handshake failed (certificate not trusted or name mismatch, or STARTTLS refused): nothing was authenticated',
  broken: 'the connection broke before the server answered AUTH',
};

export function classifyAnswer(answer: Pick<ProbeAnswer, 'serverLine' | 'failure' | 'stage' | 'notOffered'>): ProbeVerdict {
  if (answer.notOffered) {
    const { mechanism, offered } = answer.notOffered;
    return { kind: 'not-offered', mechanism, offered, evidence: offered.length ? `250 AUTH ${offered.join(' ')}` : '(no AUTH advertised after STARTTLS)' };
  }
  // Only the answer to AUTH is an answer: a 334 is a challenge inside the exchange, and a greeting or
  // EHLO line before AUTH says nothing about the sign-in.
  const answered = answer.stage === 'auth' || answer.stage === 'done';
  const line = answered && answer.serverLine !== null && !/^334[ -]/.test(answer.serverLine) ? answer.serverLine : null;
  // A server line that says what happened wins: a TLS error after a 535 is the server hanging up.
  if (line !== null) {
    for (const [outcome, pattern] of SERVER_PATTERNS) {
      // 235 counts only as the answer to AUTH, never as some earlier line that happens to start so.
      if (outcome === 'accepted' && answer.stage !== 'done') continue;
      if (pattern.test(line)) return { kind: 'answer', outcome, evidence: line, meaning: OUTCOME_MEANING[outcome] };
    }
    return { kind: 'answer', outcome: 'unknown', evidence: line, meaning: OUTCOME_MEANING.unknown };
  }
  const failure = answer.failure ?? { code: 'ERROR', message: answer.serverLine ?? 'the conversation ended before AUTH was answered' };
  const reason = UNREACHABLE[failure.code] ?? (answered ? 'broken' : 'connect');
  // A server that refused the conversation before AUTH (greeting or EHLO refused) is quoted as such.
  const evidence = answer.serverLine !== null && !answered ? `${failure.code}: ${failure.message} (last server line: ${answer.serverLine})` : `${failure.code}: ${failure.message}`;
  return { kind: 'unreachable', reason, evidence, meaning: UNREACHABLE_MEANING[reason] };
}

const AUTH_FLAG: Record<ProbeMechanism, string> = { LOGIN: 'basic', PLAIN: 'basic-plain', XOAUTH2: 'oauth' };

/**
 * Why a verdict is no answer about the tenant, in words for the error a user sees (the step and the
 * command both use it): the server was not reached, or the asked mechanism is not offered.
 */
export function notAnAnswer(verdict: UnreachableServer | MechanismNotOffered, endpoint: string): { message: string; hint: string } {
  if (verdict.kind === 'unreachable') {
    return {
      message: `could not reach ${endpoint}: ${verdict.meaning} (${verdict.evidence}); nothing about SMTP AUTH was learned`,
      hint: verdict.reason === 'tls' ? 'check the host name and the CA (caFile / --ca-file for a test server)' : 'check the host, the port and the network path (587 outbound), then probe again',
    };
  }
  const offered = verdict.offered.filter((m): m is ProbeMechanism => m in AUTH_FLAG);
  return {
    message:
      `${endpoint} does not offer AUTH ${verdict.mechanism} after STARTTLS (it advertises ${verdict.offered.length ? `AUTH ${verdict.offered.join(' ')}` : 'no AUTH at all'}), ` +
      'so the probe did not try it: its answer would say nothing about the tenant',
    hint: offered.length
      ? `probe with ${offered.map((m) => `auth: ${AUTH_FLAG[m]} (AUTH ${m})`).join(' or ')}; Basic submission to Exchange Online uses AUTH LOGIN`
      : 'this server takes no SASL mechanism this tool knows',
  };
}
