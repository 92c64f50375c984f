/**
 * What a probe's answer means, from the server's exact line (kept as evidence) or the transport
 * failure. Pure. Texts are Exchange Online's (shared/EXCHANGE-FACTS.md "What a mail client sees"):
 * - 235: accepted (RFC 4954).
 * - `535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.`
 *   / `... for the Mailbox.`: the SMTP AUTH switches (Microsoft Learn, "Enable or disable SMTP AUTH
 *   in Exchange Online"; aka.ms/smtp_auth_disabled).
 * - `535 5.7.139 Authentication unsuccessful, basic authentication is disabled.` (observed in public
 *   reports, e.g. odysseus-dev/odysseus#197, TideDra/zotero-arxiv-daily#46): Basic is blocked by
 *   security defaults, an authentication policy or Conditional Access; app passwords do not help.
 * - `535 5.7.3 Authentication unsuccessful [server]`: wrong credentials ([MS-SMTPNTLM] 2.2.1.4).
 * - `550 5.7.30 Basic authentication is not supported for Client Submission.`: Basic retired
 *   (Exchange Team blog, April 2024, "Exchange Online to retire Basic auth for Client Submission").
 * - `530 5.7.57 Client not authenticated to send mail`: the client did not authenticate.
 * Real lines carry a trailer such as `[BN6PR03CA0021.namprd03.prod.outlook.com 2024-04-13T15:44:48Z
 * 08DC...]`; the patterns match the stable part and the evidence keeps the whole line. Anything else
 * is `unknown`, reported verbatim: never guessed.
 */
import type { ProbeAnswer } from './types.js';

export const PROBE_OUTCOMES = [
  'accepted',
  'tenant-disabled',
  'mailbox-disabled',
  'basic-auth-blocked',
  'bad-credentials',
  'basic-retired',
  'not-authenticated',
  'tls-failure',
  'timeout',
  'connection-refused',
  'unknown',
] as const;
export type ProbeOutcome = (typeof PROBE_OUTCOMES)[number];

export interface ClassifiedAnswer {
  outcome: ProbeOutcome;
  /** The server's exact line, or the transport failure as `<code>: <message>`. */
  evidence: string;
  /** What the outcome means for a device, in an admin's words. */
  meaning: string;
}

export const OUTCOME_MEANING: Record<ProbeOutcome, string> = {
  accepted: 'the server accepted the sign-in: a device with these credentials can submit mail',
  'tenant-disabled': 'SMTP AUTH is off for the organization (Set-TransportConfig -SmtpClientAuthenticationDisabled $true) and the mailbox follows it',
  'mailbox-disabled': 'SMTP AUTH is off for this mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled $true)',
  'basic-auth-blocked':
    "Basic authentication is blocked for this sign-in by security defaults, an authentication policy, Conditional Access, or Microsoft's own default; app passwords do not help",
  'bad-credentials': 'the user name or password (or token) was not accepted',
  'basic-retired': 'Microsoft no longer accepts Basic authentication for client submission',
  'not-authenticated': 'the server considers the client not authenticated (often Conditional Access, or a client that sends without AUTH)',
  'tls-failure': 'the TLS handshake failed (certificate not trusted or name mismatch, or STARTTLS refused): nothing was authenticated',
  timeout: 'the server did not answer in time',
  'connection-refused': 'the connection was refused (nothing listens there, or a firewall rejects it)',
  unknown: 'an answer this tool does not know: read the evidence line',
};

const SERVER_PATTERNS: readonly [ProbeOutcome, RegExp][] = [
  ['accepted', /^235[ -]/],
  ['tenant-disabled', /^535[ -]5\.7\.139\b.*SmtpClientAuthentication is disabled for the Tenant/i],
  ['mailbox-disabled', /^535[ -]5\.7\.139\b.*SmtpClientAuthentication is disabled for the Mailbox/i],
  ['basic-auth-blocked', /^535[ -]5\.7\.139\b.*basic authentication is disabled/i],
  ['bad-credentials', /^535[ -]5\.7\.3\b/],
  ['basic-retired', /^550[ -]5\.7\.30\b.*Basic authentication is not supported for Client Submission/i],
  ['not-authenticated', /^5\d\d[ -]5\.7\.57\b/],
];

/** Transport failure codes the real client reports (client.ts normalises them). */
const FAILURE_OUTCOMES: Record<string, ProbeOutcome> = {
  TLS: 'tls-failure',
  TIMEOUT: 'timeout',
  ECONNREFUSED: 'connection-refused',
};

export function classifyAnswer(answer: Pick<ProbeAnswer, 'serverLine' | 'failure' | 'stage'>): ClassifiedAnswer {
  // A 334 is a challenge inside the AUTH exchange, not an answer: waiting after it is a timeout.
  const line = answer.serverLine !== null && !/^334[ -]/.test(answer.serverLine) ? answer.serverLine : null;
  // A server line that says what happened wins: a TLS error after a 535 is the server hanging up.
  if (line !== null) {
    for (const [outcome, pattern] of SERVER_PATTERNS) {
      // 235 counts only as the answer to AUTH, never as some earlier line that happens to start so.
      if (outcome === 'accepted' && answer.stage !== 'done') continue;
      if (pattern.test(line)) return { outcome, evidence: line, meaning: OUTCOME_MEANING[outcome] };
    }
  }
  if (answer.failure) {
    const outcome = FAILURE_OUTCOMES[answer.failure.code];
    // A failure after the server answered AUTH with something unknown stays unknown: the line is the fact.
    if (outcome && (line === null || answer.stage !== 'auth')) {
      return { outcome, evidence: `${answer.failure.code}: ${answer.failure.message}`, meaning: OUTCOME_MEANING[outcome] };
    }
  }
  const evidence = answer.serverLine ?? (answer.failure ? `${answer.failure.code}: ${answer.failure.message}` : '(no answer)');
  return { outcome: 'unknown', evidence, meaning: OUTCOME_MEANING.unknown };
}
