/**
 * The proof that an app really can send as a mailbox with OAuth: a token for the app from Microsoft
 * Entra (client credentials through @azure/identity, scope https://outlook.office365.com/.default),
 * then an SMTP submission sign-in with SASL XOAUTH2 as the mailbox, through the probe's SMTP client
 * (src/smtp/client.ts: EHLO, STARTTLS, AUTH, QUIT; never MAIL FROM, so nothing is ever sent).
 * Sources: Microsoft Learn, "Authenticate an IMAP, POP or SMTP connection using OAuth" (client
 * credentials, the .default scope, the XOAUTH2 format); shared/EXCHANGE-FACTS.md (grants take
 * minutes to an hour to replicate; a 535 5.7.3 right after granting may clear later).
 *
 * The outcome is an observation (its changing parts under `volatile`), so plan, verify and the
 * verify after apply all report it; only senders whose grant exists are proven.
 */
import { resolve } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import { resolveSecret } from '../../../playbook/resolve.js';
import { readConfinedText } from '../../../playbook/confined-file.js';
import { MAX_SOURCE_BYTES } from '../../../playbook/source.js';
import type { ProbeAnswer, ProbeRequest, SmtpProber } from '../../../smtp/types.js';
import type { RunContext } from '../../types.js';
import type { OAuthSenderApplication, OAuthSendersWith } from './types.js';

export const OUTLOOK_SCOPE = 'https://outlook.office365.com/.default';
const DEFAULT_AUTHORITY = 'https://login.microsoftonline.com';

export type ProofOutcome = 'proven' | 'refused' | 'no-token' | 'unreachable' | 'not-run';

export interface ProofResult {
  appId: string;
  mailbox: string;
  outcome: ProofOutcome;
  /** What it usually means and what to do. */
  meaning: string;
  /** The server's exact line, the token service's error, or why no proof ran. */
  evidence: string;
  /** ISO-8601 UTC. */
  at: string;
}

/** Why no proof can run for an app (a credential that cannot be read), by app id; plan turns it into a located error. */
export type CredentialProblems = Record<string, string>;

/** A test seam: how a token is obtained for an app (the real one builds an @azure/identity credential). */
export type CredentialFactory = (app: OAuthSenderApplication, secret: { clientSecret?: string; certificate?: string; certificatePassword?: string }, tenantId: string, authorityHost: string) => Promise<TokenCredential>;

const defaultCredentialFactory: CredentialFactory = async (app, secret, tenantId, authorityHost) => {
  // Loaded only when a proof runs.
  const { ClientSecretCredential, ClientCertificateCredential } = await import('@azure/identity');
  // Instance discovery asks login.microsoftonline.com about the authority: not for another host.
  const options = { authorityHost, ...(authorityHost !== DEFAULT_AUTHORITY ? { disableInstanceDiscovery: true } : {}) };
  if (secret.clientSecret !== undefined) return new ClientSecretCredential(tenantId, app.appId, secret.clientSecret, options);
  return new ClientCertificateCredential(tenantId, app.appId, { certificate: secret.certificate!, ...(secret.certificatePassword !== undefined ? { certificatePassword: secret.certificatePassword } : {}) }, options);
};

/** Reads an app's credential now (never earlier: it must not enter plans or journals). Throws with a reason. */
async function readCredential(app: OAuthSenderApplication, ctx: RunContext, env: NodeJS.ProcessEnv): Promise<{ clientSecret?: string; certificate?: string; certificatePassword?: string }> {
  const c = app.credential!;
  const baseDir = ctx.baseDir ?? process.cwd();
  if (c.clientSecret !== undefined) {
    const clientSecret = await resolveSecret(c.clientSecret, env, baseDir);
    if (clientSecret === '') throw new Error(`the client secret ${c.clientSecret} is empty`);
    return { clientSecret };
  }
  const file = resolve(baseDir, c.certificatePath!);
  const read = await readConfinedText(file, { roots: ctx.fileRoots ?? [baseDir], maxBytes: MAX_SOURCE_BYTES });
  if (!read.ok) throw new Error(`cannot read the certificate ${c.certificatePath}: ${read.detail}`);
  if (!/-----BEGIN CERTIFICATE-----/.test(read.text) || !/-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/.test(read.text)) {
    throw new Error(`${c.certificatePath} is not a PEM file with both a certificate and a private key`);
  }
  const certificatePassword = c.certificatePassword !== undefined ? await resolveSecret(c.certificatePassword, env, baseDir) : undefined;
  return { certificate: read.text, ...(certificatePassword !== undefined ? { certificatePassword } : {}) };
}

/** What an answer to the XOAUTH2 sign-in usually means (EXCHANGE-FACTS "What a mail client sees" and "Moving an application sender"). */
export function proofMeaning(answer: Pick<ProbeAnswer, 'serverLine' | 'failure'>, grant: OAuthSenderApplication['grant']): { outcome: ProofOutcome; meaning: string } {
  const line = answer.serverLine ?? '';
  if (/^235[ -]/.test(line)) return { outcome: 'proven', meaning: 'OAuth proven: the app signed in as the mailbox with XOAUTH2' };
  if (/^535[ -]5\.7\.139\b/.test(line)) {
    return { outcome: 'refused', meaning: 'SMTP AUTH is off for this mailbox or the tenant: OAuth submission needs it on too; keep the mailbox on the allowlist' };
  }
  if (/^535[ -]5\.7\.3\b/.test(line)) {
    const consent = grant === 'mailbox-permission' ? 'the SMTP.SendAsApp application permission of "Office 365 Exchange Online" lacks admin consent in Entra, ' : '';
    return {
      outcome: 'refused',
      meaning:
        `the token was refused for this mailbox. Usually: the grant has not replicated yet (it can take minutes to an hour: run verify again in 30-60 minutes), ` +
        `${consent}or the service principal was created with the app registration's object id instead of the Enterprise application's`,
    };
  }
  if (answer.failure) return { outcome: 'unreachable', meaning: `no answer to AUTH (${answer.failure.code}): check the host, the port and the network path to it` };
  return { outcome: 'refused', meaning: 'an answer this step does not know: read the server line' };
}

export interface ProveOptions {
  /** The directory (tenant) the apps live in, when proof.tenantId does not say. */
  tenantId: () => Promise<string>;
  env?: NodeJS.ProcessEnv;
  credentialFactory?: CredentialFactory;
  /** The SMTP client; default the probe's real one (src/smtp/client.ts). */
  openProber?: (token: string) => Promise<SmtpProber>;
}

/**
 * Proves each (app, mailbox) in `senders`. A credential that cannot be read is returned in
 * `credentialProblems` (nothing is tried for that app); a token the service refuses is a `no-token`
 * result with the service's words.
 */
export async function proveSenders(
  withValue: OAuthSendersWith,
  senders: readonly { appId: string; mailbox: string }[],
  ctx: RunContext,
  options: ProveOptions,
): Promise<{ results: ProofResult[]; credentialProblems: CredentialProblems }> {
  const results: ProofResult[] = [];
  const credentialProblems: CredentialProblems = {};
  const proof = withValue.proof ?? { host: 'smtp.office365.com', port: 587, timeoutSeconds: 30 };
  const env = options.env ?? process.env;
  const now = () => new Date().toISOString();
  for (const app of withValue.applications) {
    const mine = senders.filter((s) => s.appId === app.appId.toLowerCase());
    if (!app.credential) {
      for (const s of mine) results.push({ appId: s.appId, mailbox: s.mailbox, outcome: 'not-run', meaning: 'not proven: the step names no credential for this app', evidence: '', at: now() });
      continue;
    }
    let secret;
    try {
      secret = await readCredential(app, ctx, env);
    } catch (error) {
      credentialProblems[app.appId.toLowerCase()] = (error as Error).message;
      continue;
    }
    if (mine.length === 0) continue;
    let token: string;
    try {
      const tenantId = withValue.proof?.tenantId ?? (await options.tenantId());
      const credential = await (options.credentialFactory ?? defaultCredentialFactory)(app, secret, tenantId, withValue.proof?.authorityHost ?? DEFAULT_AUTHORITY);
      const got = await credential.getToken(OUTLOOK_SCOPE, { abortSignal: ctx.signal });
      if (!got?.token) throw new Error('the token service returned no token');
      token = got.token;
    } catch (error) {
      const text = firstLine((error as Error).message);
      for (const s of mine) {
        results.push({ appId: s.appId, mailbox: s.mailbox, outcome: 'no-token', meaning: 'Entra issued no token for the app: check the app id, the tenant and the credential (a client secret may have expired)', evidence: text, at: now() });
      }
      continue;
    }
    const prober = options.openProber ? await options.openProber(token) : await realProber(token);
    for (const s of mine) {
      ctx.report(`Proving ${app.displayName} as ${s.mailbox} (XOAUTH2, no mail sent)`);
      const request: ProbeRequest = {
        host: proof.host,
        port: proof.port,
        mailbox: s.mailbox,
        mechanism: 'XOAUTH2',
        // The prober's secret source is this app's token (above); the reference is a label only.
        secret: { kind: 'reference', reference: `token of app ${s.appId}` },
        ...(withValue.proof?.caFile ? { caFile: resolve(ctx.baseDir ?? process.cwd(), withValue.proof.caFile) } : {}),
        timeoutMs: proof.timeoutSeconds * 1000,
        clientName: 'exo-playbook-oauth-proof',
      };
      const answer = await prober.probe(request, ctx.signal);
      const { outcome, meaning } = proofMeaning(answer, app.grant);
      results.push({ appId: s.appId, mailbox: s.mailbox, outcome, meaning, evidence: answer.serverLine ?? `${answer.failure?.code ?? 'ERROR'}: ${answer.failure?.message ?? 'no answer'}`, at: answer.at });
    }
  }
  return { results, credentialProblems };
}

async function realProber(token: string): Promise<SmtpProber> {
  const { NodemailerProber } = await import('../../../smtp/client.js');
  return new NodemailerProber(async () => token);
}

function firstLine(text: string): string {
  return text.split(/\r?\n/).find((l) => l.trim() !== '')?.trim().slice(0, 400) ?? text;
}
