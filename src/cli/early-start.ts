/**
 * At launch, before the CLI loads its modules: when the command line is `apply`, `plan` or `verify`
 * `<playbook>` against `--target exchange` (the default), start the PowerShell host now (src/exchange/pwsh/early-host.ts)
 * so it starts while Node parses and validates the playbook and takes the lock. Nothing signs in or
 * touches the tenant here; the run claims the host after validation, or main.ts kills it.
 *
 * The command line is read conservatively: anything this reader does not understand (an unknown
 * option, --help, another command, a sim: target) means no early start, and the run behaves exactly
 * as before. Commander still parses the command line for real; a disagreement only costs the host.
 */
import { readRegularFileSync } from '../files/regular-file.js';
import { MAX_SOURCE_BYTES } from '../playbook/source.js';
import { delimiter, resolve } from 'node:path';
import { GITHUB_OIDC_ENV } from '../exchange/connect/oidc-env.js';
import { findPwsh } from '../exchange/find-pwsh.js';

/** The options of apply, plan and verify (src/cli/options.ts) that take a value; the others are switches. */
const VALUE_OPTIONS: Record<EarlyRun['command'], ReadonlySet<string>> = {
  apply: new Set(['--target', '--format', '--plan', '--accept-breakage', '--runs-dir', '--concurrency', '--log-file', '--notify-webhook', '--keep-runs', '--max-chars']),
  plan: new Set(['--target', '--format', '--out', '--accept-breakage', '--log-file', '--max-chars', '--workload-identity']),
  verify: new Set(['--target', '--format', '--log-file', '--notify-webhook', '--max-chars', '--workload-identity']),
};
const SWITCHES: Record<EarlyRun['command'], ReadonlySet<string>> = {
  apply: new Set(['--yes', '-y', '--accept-no-usage-evidence', '--no-color']),
  plan: new Set(['--accept-no-usage-evidence', '--no-color']),
  verify: new Set(['--no-color']),
};

export interface EarlyRun {
  command: 'apply' | 'plan' | 'verify';
  playbook: string;
  target: string;
}

const isEarlyCommand = (name: string | undefined): name is EarlyRun['command'] => name === 'apply' || name === 'plan' || name === 'verify';

/** `apply|plan|verify <playbook>` with its target, or null when the command line is anything else. */
export function earlyRunOf(argv: readonly string[]): EarlyRun | null {
  let command: string | undefined;
  let playbook: string | undefined;
  let target = 'exchange';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      // Everything after is positional: the playbook, when it is not known yet.
      if (command && !playbook && argv[i + 1] !== undefined) playbook = argv[i + 1];
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      if (!command) command = arg;
      else if (!playbook) playbook = arg;
      else return null;
      continue;
    }
    if (!command) {
      if (arg !== '--no-color') return null;
      continue;
    }
    if (!isEarlyCommand(command)) return null;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (SWITCHES[command].has(name) && eq < 0) continue;
    if (!VALUE_OPTIONS[command].has(name)) return null;
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) return null;
    if (name === '--target') target = value;
  }
  if (!isEarlyCommand(command) || !playbook) return null;
  return { command, playbook, target };
}

/**
 * Every `env:NAME` the playbook's text mentions: a superset of the variables its secrets come from
 * (a secret is always one ${env:NAME} or ${file:path} reference: src/playbook/resolve.ts), withheld
 * from the early host as target.ts withholds the secrets' variables. Null when the file cannot be read
 * as text (then no early start).
 */
export function envNamesIn(text: string): string[] {
  return [...new Set([...text.matchAll(/env:\s*([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!))];
}

function playbookText(file: string): string | null {
  try {
    // As the loader reads it: a FIFO, /dev/zero or an oversized file is not read here (the loader says why).
    const read = readRegularFileSync(file, { maxBytes: MAX_SOURCE_BYTES });
    if (!read.ok) return null;
    const text = read.bytes.toString('utf8');
    // Not UTF-8 text (the loader will say so): do not guess which variables it names.
    return text.includes('\uFFFD') || text.includes('\u0000') ? null : text;
  } catch {
    return null;
  }
}

export interface EarlyStart {
  /** Kills the host if the run did not claim it. */
  discard(): Promise<void>;
}

/** Starts the host for `apply|plan|verify --target exchange`; null when the command line is anything else. */
export async function startEarly(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<EarlyStart | null> {
  const run = earlyRunOf(argv);
  if (!run || run.target !== 'exchange') return null;
  const text = playbookText(resolve(cwd, run.playbook));
  if (text === null) return null;
  const names = envNamesIn(text);
  // A variable it names is not set: against a real tenant that fails validation (resolve.ts), so a
  // host started now would only be killed again.
  if (names.some((name) => env[name] === undefined)) return null;
  const pwsh = findPwsh(env);
  if (!pwsh) return null;
  const { startEarlyHost, discardEarlyHost } = await import('../exchange/pwsh/early-host.js');
  startEarlyHost({
    pwshPath: pwsh.path,
    modulePaths: (env.EXO_PLAYBOOK_MODULE_PATH ?? '').split(delimiter).filter((dir) => dir.trim() !== ''),
    baseEnv: env,
    withheldEnv: [...names, ...GITHUB_OIDC_ENV],
  });
  return { discard: discardEarlyHost };
}
