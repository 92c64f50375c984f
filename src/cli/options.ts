/**
 * Every CLI option is declared once here; commands pick the ones they take by name, and
 * docs/README tables are written from the same list.
 */
import { InvalidArgumentError, Option } from 'commander';
import { addressProblem } from '../playbook/addresses.js';

/**
 * An option parser for a whole number in [min, max]: only digits are taken (not `1.5`, `1e3`,
 * `0x2`, `abc`, an empty value or `-1`), and the refusal names the option and its range. Commander
 * prints an InvalidArgumentError as a usage error (exit 1), never a stack trace.
 */
export function wholeNumber(option: string, min: number, max: number, unit = ''): (value: string) => number {
  return (value: string) => {
    const n = /^\d{1,15}$/.test(value.trim()) ? Number(value.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${option} must be a whole number from ${min} to ${max}${unit ? ` ${unit}` : ''}.`);
    }
    return n;
  };
}

/** --accept-breakage: "all" or e-mail addresses, comma-separated; anything else is a usage error. */
function acceptedSenders(value: string, previous: string[] = []): string[] {
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new InvalidArgumentError('--accept-breakage takes comma-separated e-mail addresses or "all", with no empty item.');
  for (const item of items) {
    if (item.toLowerCase() === 'all') continue;
    const why = addressProblem(item);
    if (why) throw new InvalidArgumentError(`--accept-breakage takes e-mail addresses or "all": \`${item}\` ${why}.`);
  }
  return [...previous, ...items];
}

export const OPTION_TABLE = {
  target: () =>
    new Option('--target <target>', 'exchange (sign in as the playbook says) or sim:<state.json> (a simulated tenant)').default(
      'exchange',
    ),
  format: (choices: readonly string[] = ['text', 'markdown', 'json']) =>
    new Option('--format <format>', 'output format').choices(choices as string[]).default('text'),
  runsDir: () => new Option('--runs-dir <dir>', 'where run directories (plan, journal, summary) are written').default('runs'),
  concurrency: () =>
    new Option('--concurrency <n>', 'parallel per-mailbox writes (1-3)').default(1).argParser(wholeNumber('--concurrency', 1, 3)),
  logFile: () => new Option('--log-file <file>', 'append JSON-lines events (secrets redacted) to this file'),
  yes: () => new Option('-y, --yes', 'apply without asking (required without a TTY)'),
  out: () => new Option('--out <plan.json>', 'save the plan (with the observed-state fingerprint) to a file'),
  plan: () => new Option('--plan <plan.json>', 'apply exactly this saved plan; refused if the playbook or tenant changed'),
  acceptBreakage: () =>
    new Option('--accept-breakage <senders>', 'comma-separated senders (or "all") allowed to lose SMTP AUTH').argParser(acceptedSenders),
  acceptNoUsageEvidence: () =>
    new Option(
      '--accept-no-usage-evidence',
      'let a plan take SMTP AUTH away although no usage source this run read covers the usage window',
    ),
  notifyWebhook: () =>
    new Option(
      '--notify-webhook <url|env:NAME>',
      'post a summary to this Teams/Slack incoming webhook on drift or failure; env:NAME reads the URL from the environment (keeps it off the command line)',
    ),
  notifyMail: () =>
    new Option('--notify-mail <addresses>', 'also mail the notification (drift or failure) to these comma-separated addresses, through --notify-smtp').argParser((v, prev: string[] = []) => [
      ...prev,
      ...v.split(',').map((s) => s.trim()).filter(Boolean),
    ]),
  notifySmtp: () => new Option('--notify-smtp <url>', 'the SMTP relay for --notify-mail: smtp://[user@]host[:port] (STARTTLS, default 587) or smtps://host[:465]'),
  notifySmtpPassword: () => new Option('--notify-smtp-password <env:NAME|file:PATH>', "the relay user's password, from the environment or a file (never on the command line)"),
  notifyMailFrom: () => new Option('--notify-mail-from <address>', 'the sender of --notify-mail (default exo-playbook@<relay host>)'),
  notifyFormat: () =>
    new Option('--notify-format <format>', 'webhook body: adaptive-card (Teams Workflows) or text ({text, summary}: Slack, Office 365 connectors); default by the URL').choices(['adaptive-card', 'text']),
  workloadIdentity: () =>
    new Option(
      '--workload-identity <appId>',
      'sign in through workload identity federation (e.g. GitHub Actions OIDC: no stored secret) with this app id, instead of tenant.auth',
    ),
  maxChars: () =>
    new Option('--max-chars <n>', 'markdown: at most N characters (2000-10000000, default 60000, under a pull-request comment\'s limit); long lists show their first rows').argParser(
      wholeNumber('--max-chars', 2000, 10_000_000),
    ),
  compare: () => new Option('--compare <result.json>', 'html: add "Since the last run" (new, gone and changed senders and findings) against an earlier run\'s --format json result'),
  only: () =>
    new Option('--only <steps>', 'verify only these steps (comma-separated ids or actions, e.g. smtp-auth/usage): the exit code follows their findings alone').argParser((v, prev: string[] = []) => [
      ...prev,
      ...v.split(',').map((s) => s.trim()).filter(Boolean),
    ]),
  wide: () => new Option('--wide', 'text: print tables whole, whatever the terminal\'s width (default: fit the width, dropping the least important columns)'),
  keepRuns: () =>
    new Option('--keep-runs <n>', 'keep only the newest N run directories of this playbook (1-100000)').argParser(wholeNumber('--keep-runs', 1, 100_000)),
} as const;

export type OptionName = keyof typeof OPTION_TABLE;
