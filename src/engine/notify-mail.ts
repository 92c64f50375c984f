/**
 * --notify-mail: the same message as the webhook's, by mail through an SMTP relay (nodemailer), for
 * teams that live in their mailbox. The relay's password is a secret reference (env:NAME or
 * file:PATH), read when the mail is sent, never on argv, never logged. TLS is required (STARTTLS on
 * 587/25, or smtps://) except to a relay on the loopback address. One attempt with a timeout: like
 * the webhook, a failed mail is a warning and never changes the exit code.
 */
import { InputError } from '../errors.js';
import { resolveSecret } from '../playbook/resolve.js';
import type { PostResult, WebhookMessage } from './notify.js';

export interface MailSpec {
  /** Recipients (--notify-mail a@x,b@y). */
  to: string[];
  /** --notify-mail-from; default exo-playbook@<relay host>. */
  from?: string;
  /** --notify-smtp smtp://[user@]host[:port] or smtps://... */
  relay: string;
  /** --notify-smtp-password env:NAME or file:PATH (relative to the working folder). */
  password?: string;
}

export interface MailTarget {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  to: string[];
  from: string;
  password?: string;
}

const ADDRESS = /^[^\s@,;<>]+@[^\s@,;<>]+$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Checks the spec before the run starts (an unusable one is an error, exit 1, nothing read). */
export function parseMailSpec(spec: MailSpec): MailTarget {
  let url: URL;
  try {
    url = new URL(spec.relay);
  } catch {
    throw new InputError('--notify-smtp is not a URL', undefined, 'give smtp://[user@]relay.contoso.com:587 (STARTTLS) or smtps://relay:465');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new InputError('--notify-smtp must be an smtp:// or smtps:// URL', undefined, 'e.g. smtp://alerts@relay.contoso.com:587');
  if (url.password) throw new InputError('--notify-smtp must not hold a password', undefined, 'give it with --notify-smtp-password env:NAME or file:PATH');
  for (const to of spec.to) if (!ADDRESS.test(to)) throw new InputError(`--notify-mail ${to}: not a mail address`);
  if (spec.to.length === 0) throw new InputError('--notify-mail needs at least one address');
  const from = spec.from ?? `exo-playbook@${url.hostname.replace(/^\[|\]$/g, '')}`;
  if (!ADDRESS.test(from)) throw new InputError(`--notify-mail-from ${from}: not a mail address`);
  if (spec.password !== undefined && !/^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/.test(spec.password)) {
    throw new InputError('--notify-smtp-password takes env:NAME or file:PATH, never the password itself');
  }
  const secure = url.protocol === 'smtps:';
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    ...(url.username ? { user: decodeURIComponent(url.username) } : {}),
    to: spec.to,
    from,
    ...(spec.password !== undefined ? { password: spec.password } : {}),
  };
}

/** Sends the message once. Never throws; the error says what failed, never the password. */
export async function sendMail(target: MailTarget, message: WebhookMessage, env: NodeJS.ProcessEnv, cwd: string, timeoutMs: number): Promise<PostResult> {
  let password: string | undefined;
  try {
    if (target.password !== undefined) {
      const reference = target.password.startsWith('env:') ? `\${env:${target.password.slice(4)}}` : `\${file:${target.password.slice(5)}}`;
      password = await resolveSecret(reference, env, cwd);
    }
  } catch (error) {
    return { ok: false, error: `the relay password could not be read: ${(error as Error).message}` };
  }
  if (target.user && password === undefined) return { ok: false, error: 'the relay has a user but no --notify-smtp-password' };
  const { createTransport } = await import('nodemailer');
  const transport = createTransport({
    host: target.host,
    port: target.port,
    secure: target.secure,
    // A password never crosses the network in clear text; a loopback relay (tests, a local MTA) may skip TLS.
    requireTLS: !target.secure && !LOOPBACK.has(target.host),
    ...(target.user && password !== undefined ? { auth: { user: target.user, pass: password } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    await transport.sendMail({ from: target.from, to: target.to, subject: `exo-playbook: ${message.summary}`, text: `${message.text}\n` });
    return { ok: true };
  } catch (error) {
    const e = error as { code?: string; responseCode?: number; message?: string };
    const detail = e.responseCode ? `the relay answered ${e.responseCode}` : e.code ? `the relay could not be reached (${e.code})` : 'the relay failed';
    return { ok: false, error: detail };
  } finally {
    transport.close();
  }
}
