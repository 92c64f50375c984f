/**
 * --notify-webhook: tell a chat channel when a scheduled run found drift or failed.
 *
 * Two shapes (webhookBody): an Adaptive Card for Teams Workflows webhooks (the default for their URLs),
 * and `{ "text": ..., "summary": ... }` for Slack and Office 365 connector webhooks (the default for
 * any other URL); --notify-format chooses either.
 *
 * The URL is a credential (anyone holding it can post): accept `env:NAME` so it need not be on argv,
 * and never put it in an error, a log line or an event.
 *
 * One attempt with a timeout, no retries: a chat outage must not hold a scheduled job, and a job
 * that runs every 15 minutes must not turn a flaky webhook into a storm. A failed post is reported
 * as a warning; it never changes the run's exit code.
 */
import { hostname } from 'node:os';
import { InputError } from '../errors.js';
import type { ApplyReport, PlaybookRef, TenantRef, VerifyReport } from './types.js';
import { parseMailSpec, sendMail, type MailSpec } from './notify-mail.js';

export const DEFAULT_NOTIFY_TIMEOUT_MS = 10_000;

/** `https://...` as given, or `env:NAME` read from the environment. */
export function resolveWebhookUrl(spec: string, env: NodeJS.ProcessEnv): string {
  let url = spec;
  const fromEnv = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(spec);
  if (fromEnv) {
    const value = env[fromEnv[1]!];
    if (!value) {
      throw new InputError(`--notify-webhook env:${fromEnv[1]}: the environment variable ${fromEnv[1]} is not set`, undefined, `export ${fromEnv[1]}=<webhook URL> before the run`);
    }
    url = value;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Do not echo the value: it may be a mistyped secret.
    throw new InputError('--notify-webhook is not a valid URL', undefined, 'give an https:// incoming webhook URL, or env:NAME');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new InputError('--notify-webhook must be an http(s) URL', undefined, 'give an https:// incoming webhook URL, or env:NAME');
  }
  return url;
}

export type NotifyCommand = 'plan' | 'apply' | 'verify' | 'rollback';

/** Drift or failure: verify 1/2, apply and rollback 1/2/3/4, plan 1 (a plan with changes is not news). */
export function shouldNotify(command: NotifyCommand, exitCode: number): boolean {
  if (exitCode === 0) return false;
  if (command === 'plan') return exitCode !== 2;
  return true;
}

export interface RunOutcome {
  command: NotifyCommand;
  exitCode: number;
  playbook: Pick<PlaybookRef, 'name' | 'file'> & { change?: string | undefined };
  tenant?: TenantRef;
  verify?: VerifyReport;
  apply?: ApplyReport;
  /** The error message for exit 1/4 (already free of secrets: errors never carry them). */
  error?: string;
  /** The host the job ran on, so the reader knows where to look. */
  host?: string;
  /** A fleet run (exo-playbook fleet …): how many tenants ran, and each one that did not end ok. */
  fleet?: { tenants: number; notOk: { id: string; status: string; exitCode: number; message: string }[] };
}

export interface WebhookMessage {
  text: string;
  summary: string;
}

const MAX_LISTED = 10;

function headline(o: RunOutcome): string {
  const what = `${o.fleet ? 'fleet ' : ''}${o.command} ${o.playbook.name}`;
  const of = o.fleet ? ` (${o.fleet.notOk.length} of ${o.fleet.tenants} tenant(s))` : '';
  switch (o.exitCode) {
    case 2:
      return o.command === 'verify' ? `Drift found by ${what}${of}` : `${what} finished, but ${o.fleet ? 'some tenants still drift' : 'the tenant still drifts'}${of}`;
    case 3:
      return `${what}: some changes failed${of}`;
    case 4:
      return `${what} was refused by a safety guard${of}`;
    default:
      return `${what} failed${of}`;
  }
}

/** The message posted to the webhook: plain text with line breaks, readable in Slack and Teams. */
export function buildWebhookMessage(o: RunOutcome): WebhookMessage {
  const summary = headline(o);
  const lines = [`exo-playbook: ${summary} (exit ${o.exitCode})`];
  if (o.tenant) lines.push(`Tenant: ${o.tenant.organization} (${o.tenant.target})`);
  if (o.playbook.change) lines.push(`Change: ${o.playbook.change}`);
  lines.push(`Playbook: ${o.playbook.file}`);
  if (o.host) lines.push(`Host: ${o.host}`);
  if (o.error) lines.push(`Error: ${o.error}`);
  if (o.fleet) {
    lines.push(`Tenants: ${o.fleet.tenants}, ${o.fleet.notOk.length} not ok`);
    for (const t of o.fleet.notOk.slice(0, MAX_LISTED)) lines.push(`- ${t.id}: ${t.status}, exit ${t.exitCode}: ${t.message}`);
    if (o.fleet.notOk.length > MAX_LISTED) lines.push(`- … and ${o.fleet.notOk.length - MAX_LISTED} more`);
  }
  if (o.apply) {
    const s = o.apply.summary;
    lines.push(`Changes: ${s.applied} applied, ${s.failed} failed, ${s.skipped} skipped; run directory ${o.apply.runDir}`);
    const failed = o.apply.results.filter((r) => r.status === 'failed');
    for (const r of failed.slice(0, MAX_LISTED)) lines.push(`- failed: ${r.target} ${r.property}: ${r.error ?? 'unknown error'}`);
    if (failed.length > MAX_LISTED) lines.push(`- … and ${failed.length - MAX_LISTED} more`);
  }
  const verify = o.verify ?? o.apply?.verify;
  if (verify) {
    lines.push(`Verify: ${verify.summary.pass} pass, ${verify.summary.fail} fail, ${verify.summary.warn} warn`);
    const fails = verify.findings.filter((f) => f.status === 'fail');
    for (const f of fails.slice(0, MAX_LISTED)) lines.push(`- ${f.subject}: ${f.message}`);
    if (fails.length > MAX_LISTED) lines.push(`- … and ${fails.length - MAX_LISTED} more`);
  }
  return { text: lines.join('\n'), summary };
}

/**
 * The body's shape. `adaptive-card`: what a Teams Workflows webhook ("Send webhook alerts to a
 * channel") posts: `{ type: "message", attachments: [{ contentType:
 * "application/vnd.microsoft.card.adaptive", content: <AdaptiveCard> }] }` (Microsoft Learn, "Create
 * incoming webhooks with Workflows for Microsoft Teams"). `text`: the legacy `{ text, summary }` that
 * Slack and Office 365 connector webhooks read.
 */
export type WebhookFormat = 'adaptive-card' | 'text';
export const WEBHOOK_FORMATS: readonly WebhookFormat[] = ['adaptive-card', 'text'];

/** Hosts of Teams Workflows (Power Automate) webhook URLs: they get an Adaptive Card unless told otherwise. */
const WORKFLOWS_HOST = /(^|\.)(logic\.azure\.com|powerautomate\.com|powerplatform\.com|flow\.microsoft\.com)$/i;

/** --notify-format if given; else an Adaptive Card for a Teams Workflows URL and the text shape for any other. */
export function webhookFormatFor(url: string, given?: WebhookFormat): WebhookFormat {
  if (given) return given;
  return WORKFLOWS_HOST.test(new URL(url).hostname) ? 'adaptive-card' : 'text';
}

/** The message as the JSON body of the chosen shape. */
export function webhookBody(message: WebhookMessage, format: WebhookFormat): unknown {
  if (format === 'text') return message;
  const [first, ...rest] = message.text.split('\n');
  const facts = rest.filter((l) => /^[A-Z][\w ]*: /.test(l)).map((l) => ({ title: l.slice(0, l.indexOf(':')), value: l.slice(l.indexOf(':') + 2) }));
  const items = rest.filter((l) => l.startsWith('- '));
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
          fallbackText: message.text,
          body: [
            { type: 'TextBlock', text: first, weight: 'Bolder', size: 'Medium', color: 'Attention', wrap: true },
            ...(facts.length ? [{ type: 'FactSet', facts }] : []),
            ...items.map((l) => ({ type: 'TextBlock', text: l, wrap: true, spacing: 'None' })),
          ],
        },
      },
    ],
  };
}

export interface PostResult {
  ok: boolean;
  status?: number;
  /** Why it failed, without the URL. */
  error?: string;
}

/** POST the message once. Never throws; never mentions the URL. */
export async function postWebhook(
  url: string,
  message: WebhookMessage,
  options: { timeoutMs?: number; fetchImpl?: typeof fetch; format?: WebhookFormat } = {},
): Promise<PostResult> {
  const doFetch = options.fetchImpl ?? fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_NOTIFY_TIMEOUT_MS;
  try {
    const response = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(webhookBody(message, webhookFormatFor(url, options.format))),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
    // Drain the body so the connection is released.
    await response.arrayBuffer().catch(() => undefined);
    return response.ok ? { ok: true, status: response.status } : { ok: false, status: response.status, error: `the webhook answered HTTP ${response.status}` };
  } catch (error) {
    const name = (error as Error)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') return { ok: false, error: `the webhook did not answer within ${timeoutMs} ms` };
    const cause = (error as { cause?: { code?: string } })?.cause?.code;
    return { ok: false, error: `the webhook could not be reached${cause ? ` (${cause})` : ''}` };
  }
}

/** What the CLI calls after a run: decide, build, post. Returns null when nothing was sent. */
export async function notifyIfNeeded(
  spec: string | undefined,
  outcome: RunOutcome,
  env: NodeJS.ProcessEnv,
  options: { timeoutMs?: number; fetchImpl?: typeof fetch } = {},
): Promise<PostResult | null> {
  if (!spec || !shouldNotify(outcome.command, outcome.exitCode)) return null;
  const url = resolveWebhookUrl(spec, env);
  return postWebhook(url, buildWebhookMessage(outcome), options);
}

export interface NotifyAfterOptions {
  /** --notify-webhook as given (URL or env:NAME); undefined: no notification. */
  spec: string | undefined;
  command: NotifyCommand;
  /** The playbook path as given, named in the message when the run failed before loading it. */
  playbookFile: string;
  /** Better than the file name when the caller knows it (rollback: the playbook its run recorded). */
  playbook?: RunOutcome['playbook'];
  env: NodeJS.ProcessEnv;
  /** Where a failed post is reported (stderr): it never changes the exit code. */
  warn: (line: string) => void;
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
  /** --notify-format; absent: by the URL (webhookFormatFor). */
  format?: WebhookFormat;
  /** --notify-mail (with --notify-smtp ...): the same message by mail through a relay. */
  mail?: MailSpec;
  /** Where file: references (the relay password) are read from. */
  cwd?: string;
}

export interface RunResult {
  exitCode: number;
  outcome: Partial<Omit<RunOutcome, 'command' | 'exitCode'>>;
}

/**
 * Run a command and notify on drift or failure, thrown errors included (they are rethrown for the
 * CLI to map). A bad --notify-webhook is refused before the run starts.
 */
export async function notifyAfter(options: NotifyAfterOptions, run: () => Promise<RunResult>): Promise<number> {
  if (!options.spec && !options.mail) return (await run()).exitCode;
  const url = options.spec ? resolveWebhookUrl(options.spec, options.env) : undefined;
  const mail = options.mail ? parseMailSpec(options.mail) : undefined;
  const fallback = options.playbook ?? { name: playbookNameOf(options.playbookFile), file: options.playbookFile };
  const send = async (exitCode: number, outcome: RunResult['outcome']) => {
    if (!shouldNotify(options.command, exitCode)) return;
    const message = buildWebhookMessage({ playbook: fallback, host: hostName(), ...outcome, command: options.command, exitCode });
    if (url) {
      const result = await postWebhook(url, message, { ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}), ...(options.fetchImpl ? { fetchImpl: options.fetchImpl } : {}), ...(options.format ? { format: options.format } : {}) });
      if (!result.ok) options.warn(`warning: --notify-webhook: notification not sent: ${result.error}\n`);
    }
    if (mail) {
      const sent = await sendMail(mail, message, options.env, options.cwd ?? process.cwd(), options.timeoutMs ?? DEFAULT_NOTIFY_TIMEOUT_MS);
      if (!sent.ok) options.warn(`warning: --notify-mail: notification not sent: ${sent.error}\n`);
    }
  };
  let result: RunResult;
  try {
    result = await run();
  } catch (error) {
    const exitCode = typeof (error as { exitCode?: unknown }).exitCode === 'number' ? (error as { exitCode: number }).exitCode : 1;
    await send(exitCode, { error: error instanceof Error ? error.message.split('\n')[0]! : String(error) });
    throw error;
  }
  await send(result.exitCode, result.outcome);
  return result.exitCode;
}

/** The name a message gives a playbook it could not load: the file's name without .yaml. */
export function playbookNameOf(file: string): string {
  return file.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/i, '');
}

function hostName(): string | undefined {
  return hostname() || undefined;
}
