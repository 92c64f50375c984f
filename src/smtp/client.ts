/**
 * The real prober: nodemailer's SMTPConnection (nodemailer/lib/smtp-connection, pinned exactly in
 * package.json; see docs/ARCHITECTURE.md for why this library). It does what a device does on port
 * 587: greeting, EHLO, STARTTLS with the certificate verified, EHLO again, AUTH, then QUIT. It never
 * calls send(), so no MAIL FROM is ever written.
 */
import { readInputText } from '../files/regular-file.js';
import { rootCertificates } from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { InputError } from '../errors.js';
import { secretForms, Transcript, redactSecrets } from './transcript.js';
import type { ProbeAnswer, ProbeRequest, ProbeStage, SmtpProber } from './types.js';

/** Turns a request's secret reference into the secret, at the moment of AUTH (credentials.ts). */
export type SecretSource = (request: ProbeRequest) => Promise<string>;

const XOAUTH2_HANDLER = 'EXO-PLAYBOOK-XOAUTH2';

/** How long QUIT may take before the socket is simply closed. */
const QUIT_GRACE_MS = 2000;

export class NodemailerProber implements SmtpProber {
  readonly kind = 'smtp' as const;

  constructor(
    private readonly secretFor: SecretSource,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async probe(request: ProbeRequest, signal?: AbortSignal): Promise<ProbeAnswer> {
    const ca = request.caFile ? await readCa(request.caFile) : undefined;
    const secret = await this.secretFor(request);
    const forms = secretForms(secret, request.mailbox);
    const transcript = new Transcript(() => forms);
    const conversation = new Conversation(transcript);
    const connection = new SMTPConnection({
      host: request.host,
      port: request.port,
      secure: false,
      // STARTTLS or nothing: a probe must never send credentials in the clear.
      requireTLS: true,
      name: request.clientName,
      connectionTimeout: request.timeoutMs,
      greetingTimeout: request.timeoutMs,
      socketTimeout: request.timeoutMs,
      dnsTimeout: request.timeoutMs,
      socketCloseTimeout: QUIT_GRACE_MS,
      allowInternalNetworkInterfaces: true,
      tls: { rejectUnauthorized: true, ...(ca ? { ca: [...rootCertificates, ca] } : {}) },
      transactionLog: true,
      logger: conversation.logger(),
      // Under its own name: asked for "XOAUTH2" without a token generator, nodemailer quietly picks
      // another advertised method (LOGIN), and a probe must never test something it was not asked to.
      customAuth: { [XOAUTH2_HANDLER]: xoauth2(request.mailbox, secret) },
    });
    const ended = new Promise<void>((resolve) => connection.once('end', () => resolve()));
    let failure: ProbeAnswer['failure'] = null;
    let notOffered: ProbeAnswer['notOffered'] = null;
    const onAbort = () => connection.close();
    signal?.addEventListener('abort', onAbort, { once: true });
    // A socket error, a timeout or the server hanging up can come at any point, also while AUTH waits
    // for its answer: every step races against it, so a probe always ends.
    const broken = new Promise<never>((_, reject) => {
      connection.on('error', reject);
      connection.once('end', () => reject(Object.assign(new Error('the server closed the connection'), { code: 'ECONNRESET' })));
    });
    broken.catch(() => {});
    try {
      await Promise.race([broken, new Promise<void>((resolve) => connection.connect(() => resolve()))]);
      // Only what the server advertised after STARTTLS is tried (RFC 4954 section 3): a PLAIN probe of
      // smtp.office365.com (AUTH LOGIN XOAUTH2) would only earn 504 5.7.4 and test nothing.
      const offered = conversation.offeredAfterTls ?? [];
      if (!offered.includes(request.mechanism)) {
        notOffered = { mechanism: request.mechanism, offered };
        conversation.transcript.note(`AUTH ${request.mechanism} is not advertised (${offered.length ? `AUTH ${offered.join(' ')}` : 'no AUTH'}): not tried`);
        throw Object.assign(new Error('mechanism not offered'), { code: 'NOT_OFFERED' });
      }
      conversation.stage = 'auth';
      const method = request.mechanism === 'XOAUTH2' ? XOAUTH2_HANDLER : request.mechanism;
      await Promise.race([
        broken,
        new Promise<void>((resolve, reject) => connection.login({ user: request.mailbox, pass: secret, method }, (error) => (error ? reject(error) : resolve()))),
      ]);
      conversation.stage = 'done';
    } catch (error) {
      if (notOffered === null) failure = failureOf(error as NodeError, conversation.stage);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    // An error has already closed the connection; otherwise say goodbye properly.
    if (!connection.destroyed) {
      connection.quit();
      await Promise.race([ended, new Promise((r) => setTimeout(r, QUIT_GRACE_MS).unref())]);
      connection.close();
    }
    const serverLine = conversation.lastServerLine === null ? null : redactSecrets(conversation.lastServerLine, forms);
    return {
      stage: conversation.stage,
      serverLine,
      failure: failure ? { code: failure.code, message: redactSecrets(failure.message, forms) } : null,
      notOffered,
      transcript: transcript.toLines(),
      at: this.now().toISOString(),
    };
  }
}

interface NodeError extends Error {
  code?: string;
  originalCode?: string;
  response?: string;
}

/** Follows the conversation through nodemailer's transaction log: the transcript, the stage, the last reply. */
class Conversation {
  stage: ProbeStage = 'connect';
  lastServerLine: string | null = null;
  /** The mechanisms of the AUTH line in the EHLO reply after STARTTLS; null until that reply came. */
  offeredAfterTls: string[] | null = null;
  private tlsUp = false;
  constructor(readonly transcript: Transcript) {}

  logger() {
    const entry = (data: unknown, message?: unknown, ...args: unknown[]) => {
      const tnx = (data as { tnx?: string } | undefined)?.tnx;
      const text = typeof message === 'string' ? format(message, args) : '';
      if (tnx === 'client') this.onClient(text);
      else if (tnx === 'server') this.onServer(text);
    };
    return { trace: () => {}, debug: entry, info: entry, warn: entry, error: () => {}, fatal: () => {} };
  }

  private onClient(line: string): void {
    this.transcript.client(line);
    if (/^STARTTLS\b/i.test(line)) this.stage = 'starttls';
    else if (/^EHLO\b/i.test(line) && this.stage !== 'auth') this.stage = 'ehlo';
    else if (/^AUTH\b/i.test(line)) this.stage = 'auth';
    else if (/^QUIT\b/i.test(line)) this.transcript.note('probe ends here: no MAIL FROM is ever sent');
  }

  private onServer(text: string): void {
    this.transcript.server(text);
    if (this.stage === 'connect') this.stage = 'greeting';
    const lines = text.split(/\r?\n/).filter((l) => l !== '');
    if (this.stage === 'starttls' && /^220[ -]/.test(lines[0] ?? '')) this.tlsUp = true;
    else if (this.tlsUp && this.stage === 'ehlo' && /^250[ -]/.test(lines[0] ?? '')) this.offeredAfterTls = advertisedMechanisms(lines);
    // QUIT's own 221 is not the answer the probe is about.
    const last = lines.at(-1) ?? null;
    if (last !== null && !/^221[ -]/.test(last)) this.lastServerLine = last;
  }
}

/** `250-AUTH LOGIN XOAUTH2` → ['LOGIN', 'XOAUTH2']; no AUTH line → []. */
export function advertisedMechanisms(ehloLines: readonly string[]): string[] {
  const auth = ehloLines.map((l) => /^250[ -]AUTH[ =](.*)$/i.exec(l)).find((m) => m !== null);
  return auth ? auth[1]!.trim().split(/\s+/).filter(Boolean).map((m) => m.toUpperCase()) : [];
}

function format(message: string, args: unknown[]): string {
  let i = 0;
  return message.replace(/%[sdj]/g, () => String(args[i++] ?? ''));
}

/** SASL XOAUTH2 (Microsoft Learn, "Authenticate an IMAP, POP or SMTP connection using OAuth"): base64("user=" + user + ^A + "auth=Bearer " + token + ^A^A). */
function xoauth2(user: string, token: string) {
  return async (ctx: { sendCommand(cmd: string): Promise<{ status: number; response: string }>; resolve(): void; reject(e: Error | string): void }) => {
    const blob = Buffer.from(`user=${user}\u0001auth=Bearer ${token}\u0001\u0001`, 'utf8').toString('base64');
    let reply = await ctx.sendCommand(`AUTH XOAUTH2 ${blob}`);
    // A 334 carries a base64 JSON error; the client answers with an empty line to get the final reply.
    if (reply.status === 334) reply = await ctx.sendCommand('');
    if (reply.status === 235) ctx.resolve();
    else ctx.reject(Object.assign(new Error('Invalid login'), { code: 'EAUTH', response: reply.response }));
  };
}

const DNS_CODES = new Set(['EDNS', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'ENODATA', 'ESERVFAIL']);
const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENETDOWN', 'EHOSTDOWN']);

const TLS_ERROR = /certificate|self[- ]signed|CERT_|ERR_TLS|SSL|TLS|handshake|unable to verify|altname/i;

/** The transport failure, normalised to what classify.ts knows: DNS, CONNECT, TIMEOUT, TLS, or the code as is. */
function failureOf(error: NodeError, stage: ProbeStage): { code: string; message: string } {
  const codes = [error.code, error.originalCode].filter((c): c is string => typeof c === 'string');
  const message = error.message;
  if (codes.includes('EAUTH')) return { code: 'EAUTH', message };
  if (codes.some((c) => DNS_CODES.has(c))) return { code: 'DNS', message };
  if (codes.some((c) => CONNECT_CODES.has(c))) return { code: 'CONNECT', message };
  if (codes.includes('ETIMEDOUT') || /timeout|timed out/i.test(message)) return { code: 'TIMEOUT', message };
  if (codes.includes('ETLS') || (stage === 'starttls' && TLS_ERROR.test(message)) || codes.some((c) => TLS_ERROR.test(c))) {
    return { code: 'TLS', message };
  }
  return { code: codes[0] ?? 'ERROR', message };
}

async function readCa(file: string): Promise<string> {
  try {
    const text = await readInputText(file, { maxBytes: 1024 * 1024, what: 'the CA file' });
    if (!/-----BEGIN CERTIFICATE-----/.test(text)) throw new Error('no PEM certificate in it');
    return text;
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`cannot use the CA file ${file}: ${(error as Error).message}`, undefined, 'caFile names a PEM file of CA certificates to trust (for tests)');
  }
}
