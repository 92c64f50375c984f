/**
 * Every CLI option is declared once here; commands pick the ones they take by name, and
 * docs/README tables are written from the same list.
 */
import { Option } from 'commander';

export const OPTION_TABLE = {
  target: () =>
    new Option('--target <target>', 'exchange (sign in as the playbook says) or sim:<state.json> (a simulated tenant)').default(
      'exchange',
    ),
  format: (choices: readonly string[] = ['text', 'markdown', 'json']) =>
    new Option('--format <format>', 'output format').choices(choices as string[]).default('text'),
  runsDir: () => new Option('--runs-dir <dir>', 'where run directories (plan, journal, summary) are written').default('runs'),
  concurrency: () =>
    new Option('--concurrency <n>', 'parallel per-mailbox writes (1-3)').default(1).argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 3) throw new Error('--concurrency must be 1, 2 or 3');
      return n;
    }),
  logFile: () => new Option('--log-file <file>', 'append JSON-lines events (secrets redacted) to this file'),
  yes: () => new Option('-y, --yes', 'apply without asking (required without a TTY)'),
  out: () => new Option('--out <plan.json>', 'save the plan (with the observed-state fingerprint) to a file'),
  plan: () => new Option('--plan <plan.json>', 'apply exactly this saved plan; refused if the playbook or tenant changed'),
  acceptBreakage: () =>
    new Option('--accept-breakage <senders>', 'comma-separated senders (or "all") allowed to lose SMTP AUTH').argParser((v, prev: string[] = []) => [
      ...prev,
      ...v.split(',').map((s) => s.trim()).filter(Boolean),
    ]),
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
    new Option('--max-chars <n>', 'markdown: at most N characters (default 60000, under a pull-request comment\'s limit); long lists show their first rows').argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 2000) throw new Error('--max-chars must be a whole number of at least 2000');
      return n;
    }),
  only: () =>
    new Option('--only <steps>', 'verify only these steps (comma-separated ids or actions, e.g. smtp-auth/usage): the exit code follows their findings alone').argParser((v, prev: string[] = []) => [
      ...prev,
      ...v.split(',').map((s) => s.trim()).filter(Boolean),
    ]),
  wide: () => new Option('--wide', 'text: print tables whole, whatever the terminal\'s width (default: fit the width, dropping the least important columns)'),
  keepRuns: () =>
    new Option('--keep-runs <n>', 'keep only the newest N run directories of this playbook').argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error('--keep-runs must be a whole number of at least 1');
      return n;
    }),
} as const;

export type OptionName = keyof typeof OPTION_TABLE;
