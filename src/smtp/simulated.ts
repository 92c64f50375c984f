/**
 * The simulated prober: answers a probe from a simulated tenant's state file the way Exchange Online
 * answers a device (classify.ts names the texts), so the demo and the tests show every outcome
 * without a network. The order of checks is documented in docs/STATE-FILE.md "SMTP probes".
 */
import { createHash } from 'node:crypto';
import { readStateFile } from '../exchange/simulator/state-file.js';
import type { SimMailbox, TenantState } from '../exchange/simulator/state.js';
import type { SecretSource } from './client.js';
import { secretForms, Transcript } from './transcript.js';
import type { ProbeAnswer, ProbeRequest, SmtpProber } from './types.js';

const DEFAULT_SERVER = 'SIM01CA0001.namprd01.prod.outlook.com';
/** What smtp.office365.com advertises after STARTTLS (EXCHANGE-FACTS "What a mail client sees"). */
const OFFICE365_MECHANISMS: readonly string[] = ['LOGIN', 'XOAUTH2'];

export class SimulatedProber implements SmtpProber {
  readonly kind = 'simulator' as const;

  constructor(
    private readonly stateFile: string,
    private readonly secretFor: SecretSource,
    private readonly now?: () => Date,
  ) {}

  async probe(request: ProbeRequest): Promise<ProbeAnswer> {
    // Read afresh: an apply earlier in the same run may have changed the switches.
    const state = await readStateFile(this.stateFile);
    const at = this.now?.() ?? (state.clock ? new Date(state.clock) : new Date());
    const secret = await this.secretFor(request);
    const forms = secretForms(secret, request.mailbox);
    const transcript = new Transcript(() => forms);
    const server = state.smtp?.server ?? DEFAULT_SERVER;
    const fault = state.smtp?.fault ?? null;
    if (fault === 'connection-refused' || fault === 'timeout') {
      transcript.note(`simulated ${fault}`);
      const failure = fault === 'timeout' ? { code: 'TIMEOUT', message: 'Timeout (simulated)' } : { code: 'ECONNREFUSED', message: `connect ECONNREFUSED ${request.host}:${request.port} (simulated)` };
      return { stage: 'connect', serverLine: null, failure, notOffered: null, transcript: transcript.toLines(), at: at.toISOString() };
    }
    transcript.server(`220 ${server} Microsoft ESMTP MAIL Service ready`);
    transcript.client(`EHLO ${request.clientName}`);
    transcript.server(`250-${server} Hello\r\n250-STARTTLS\r\n250 SMTPUTF8`);
    transcript.client('STARTTLS');
    if (fault === 'tls-failure') {
      transcript.server('220 2.0.0 SMTP server ready');
      transcript.note('simulated TLS failure: the certificate is not trusted');
      return { stage: 'starttls', serverLine: null, failure: { code: 'TLS', message: 'self-signed certificate (simulated)' }, notOffered: null, transcript: transcript.toLines(), at: at.toISOString() };
    }
    transcript.server('220 2.0.0 SMTP server ready');
    transcript.client(`EHLO ${request.clientName}`);
    const offered = state.smtp?.authMechanisms ?? OFFICE365_MECHANISMS;
    transcript.server(`250-${server} Hello\r\n${offered.length ? `250-AUTH ${offered.join(' ')}\r\n` : ''}250 SMTPUTF8`);
    if (!offered.includes(request.mechanism)) {
      transcript.note(`AUTH ${request.mechanism} is not advertised: not tried`);
      transcript.client('QUIT');
      transcript.server('221 2.0.0 Service closing transmission channel');
      return { stage: 'ehlo', serverLine: offered.length ? `250-AUTH ${offered.join(' ')}` : null, failure: null, notOffered: { mechanism: request.mechanism, offered: [...offered] }, transcript: transcript.toLines(), at: at.toISOString() };
    }
    transcript.client(`AUTH ${request.mechanism} ${request.mechanism === 'LOGIN' ? '' : 'x'}`.trim());
    const reply = authReply(state, request, secret, `[${server} ${at.toISOString()}]`);
    transcript.server(reply);
    transcript.client('QUIT');
    transcript.server('221 2.0.0 Service closing transmission channel');
    return { stage: /^235 /.test(reply) ? 'done' : 'auth', serverLine: reply, failure: null, notOffered: null, transcript: transcript.toLines(), at: at.toISOString() };
  }
}

/** The final AUTH reply, from the tenant's state. */
export function authReply(state: TenantState, request: Pick<ProbeRequest, 'mailbox' | 'mechanism'>, secret: string, trailer: string): string {
  const smtp = state.smtp ?? {};
  const basic = request.mechanism !== 'XOAUTH2';
  if (basic && smtp.basicAuthRetired) return '550 5.7.30 Basic authentication is not supported for Client Submission.';
  const mailbox = findMailbox(state, request.mailbox);
  const expected = mailbox ? smtp.canaryPasswordSha256?.[mailbox.PrimarySmtpAddress.toLowerCase()] : undefined;
  const credentialsOk = mailbox !== undefined && secret !== '' && (!basic || expected === undefined || sha256(secret) === expected.toLowerCase());
  if (!credentialsOk) return `535 5.7.3 Authentication unsuccessful ${trailer}`;
  // The switches govern the protocol, Basic and OAuth alike; the mailbox value wins, $null follows the organization.
  if (mailbox.SmtpClientAuthenticationDisabled === true) {
    return `535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information. ${trailer}`;
  }
  if (mailbox.SmtpClientAuthenticationDisabled === null && state.transportConfig.SmtpClientAuthenticationDisabled) {
    return `535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. ${trailer}`;
  }
  if (!basic) return '235 2.7.0 Authentication successful';
  // Basic only, each with the line Exchange Online answers (EXCHANGE-FACTS "What a mail client sees";
  // observed replies, none in Microsoft's docs). The authentication policy and the tenant-level block
  // are Exchange's own; security defaults and Conditional Access are Entra's, at sign-in.
  if (basicPolicyBlocks(state, mailbox) || smtp.basicAuthDefaultOff === true) return `535 5.7.139 Authentication unsuccessful, basic authentication is disabled. ${trailer}`;
  if (smtp.securityDefaults) return `535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator. ${trailer}`;
  const excluded = new Set((smtp.conditionalAccessExclusions ?? []).map((a) => a.toLowerCase()));
  if (smtp.conditionalAccessBlocksLegacyAuth && !addressesOf(mailbox).some((a) => excluded.has(a))) {
    return `535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator. ${trailer}`;
  }
  return '235 2.7.0 Authentication successful';
}

/** The canary's authentication policy (its own, else the organization's default) blocks Basic SMTP AUTH. */
function basicPolicyBlocks(state: TenantState, mailbox: SimMailbox): boolean {
  const policyName = mailbox.AuthenticationPolicy ?? state.organizationConfig.DefaultAuthenticationPolicy;
  const policy = policyName === null ? undefined : state.authenticationPolicies.find((p) => p.Name.toLowerCase() === policyName.toLowerCase());
  return policy !== undefined && policy.AllowBasicAuthSmtp === false;
}

function findMailbox(state: TenantState, address: string): SimMailbox | undefined {
  const wanted = address.toLowerCase();
  return state.mailboxes.find((m) => addressesOf(m).includes(wanted));
}

function addressesOf(mailbox: SimMailbox): string[] {
  return [mailbox.PrimarySmtpAddress, mailbox.UserPrincipalName, ...mailbox.EmailAddresses.map((a) => a.replace(/^smtp:/i, ''))].map((a) => a.toLowerCase());
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
