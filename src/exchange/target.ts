/**
 * --target: which Exchange the run talks to. `exchange` (the default) starts PowerShell with the
 * ExchangeOnlineManagement module and signs in as tenant.auth says; `sim:<state.json>` opens the
 * simulated tenant in that file. Either way the caller gets a connected ExchangeSession.
 */
import { access } from 'node:fs/promises';
import { delimiter, resolve } from 'node:path';
import { InputError, SessionError } from '../errors.js';
import type { Playbook } from '../playbook/schema.js';
import { ConnectedSession } from './connect/connected-session.js';
import { createConnector, DEVICE_CODE_TEXT, simulatorConnector, type ConnectorOptions, type Invoker } from './connect/connector.js';
import { findPwsh } from './find-pwsh.js';
import { GITHUB_OIDC_ENV } from './connect/oidc-env.js';
import type { PwshSession } from './pwsh/session.js';
import type { ExchangeSession } from './session.js';

export type Target = { kind: 'exchange' } | { kind: 'sim'; stateFile: string };

export interface OpenTargetOptions {
  env: NodeJS.ProcessEnv;
  /** The playbook's folder (relative certificate paths and ${file:} secrets). */
  baseDir: string;
  /** The cmdlets the playbook needs: the module imports only these (-CommandName). */
  cmdlets: string[];
  onDeviceCode?: (message: string) => void;
  log?: (line: string) => void;
  /** Where a relative sim:<path> starts; default process.cwd(). */
  cwd?: string;
  /**
   * Abandons the opening (the write pool closed before this extra session was signed in): a pwsh
   * host still starting or signing in is killed, process group and all, and the promise rejects.
   */
  signal?: AbortSignal;
  /**
   * Called once the host has started and imported the module, before it signs in (at once for the
   * simulator): the write pool starts its extra hosts then, when this one no longer needs the CPU.
   */
  onStarted?: () => void;
  /**
   * Sign in only once this resolves (the run's own session signed in): the host starts at once, so
   * its start overlaps the run's own sign-in and reads, but a refused sign-in is never tried three
   * times. When it rejects, the host is killed and the opening rejects with that error.
   */
  signInAfter?: Promise<void>;
  /** Test seams, passed to the connector. */
  connector?: Pick<ConnectorOptions, 'resolveSecret' | 'credentialFor' | 'now'>;
}

const TARGET_HINT = 'use --target exchange, or --target sim:<state.json> (create one with `exo-playbook sim init <state.json>`)';

export function parseTarget(target: string, cwd: string): Target {
  if (target === 'exchange') return { kind: 'exchange' };
  if (target.startsWith('sim:')) {
    const path = target.slice('sim:'.length);
    if (path.trim() === '') throw new InputError('--target sim: needs the path of a state file after "sim:"', undefined, TARGET_HINT);
    return { kind: 'sim', stateFile: resolve(cwd, path) };
  }
  throw new InputError(`--target ${JSON.stringify(target)} is not a target`, undefined, TARGET_HINT);
}

/** Extra module folders (EXO_PLAYBOOK_MODULE_PATH, path-list like PATH): how tests load the stub module. */
export function modulePathsFrom(env: NodeJS.ProcessEnv): string[] {
  return (env.EXO_PLAYBOOK_MODULE_PATH ?? '').split(delimiter).filter((dir) => dir.trim() !== '');
}

export async function openTarget(target: string, tenant: Playbook['tenant'], options: OpenTargetOptions): Promise<ExchangeSession> {
  const parsed = parseTarget(target, options.cwd ?? process.cwd());
  const sessionOptions = { ...(options.log ? { log: options.log } : {}), ...(options.connector?.now ? { now: options.connector.now } : {}) };
  if (parsed.kind === 'sim') {
    await assertStateFile(parsed.stateFile);
    const { SimulatedSession } = await import('./simulator/session.js');
    options.onStarted?.();
    if (options.signInAfter) await options.signInAfter;
    const session = await SimulatedSession.open(parsed.stateFile);
    return ConnectedSession.open(session, simulatorConnector(tenant.organization, options.cmdlets), sessionOptions);
  }
  const connector = createConnector(tenant, {
    env: options.env,
    baseDir: options.baseDir,
    cmdlets: options.cmdlets,
    ...(options.onDeviceCode ? { onDeviceCode: options.onDeviceCode } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...options.connector,
  });
  const session = await startPowerShell(options, secretEnvNames(tenant.auth), async (invoke) => {
    // A fresh host starts signed out: sign in there before the call that needed it runs.
    await connector.connect({ invoke }, 'restart');
  });
  options.onStarted?.();
  // Abandoned while starting or signing in: kill the host rather than wait for the sign-in (and a sign-out).
  const signal = options.signal;
  let killing: Promise<void> | undefined;
  const abandon = () => {
    killing ??= session.kill();
  };
  signal?.addEventListener('abort', abandon, { once: true });
  try {
    if (signal?.aborted) abandon();
    if (options.signInAfter && !killing) await Promise.race([options.signInAfter, whenAborted(signal)]);
    if (killing) throw new SessionError('PowerShell was stopped before it signed in: its session was no longer needed');
    return await ConnectedSession.open(session, connector, { ...sessionOptions, reconnectAfterFailure: false });
  } catch (error) {
    // Never signed in, so nothing to sign out of: the host goes, and is gone before this rejects.
    await (killing ?? session.kill());
    throw error;
  } finally {
    signal?.removeEventListener('abort', abandon);
  }
}

/** Rejects when the signal fires; never settles without one. */
function whenAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (!signal) return;
    const stop = () => reject(new SessionError('the opening was abandoned'));
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
}

async function assertStateFile(stateFile: string): Promise<void> {
  try {
    await access(stateFile);
  } catch {
    throw new InputError(`--target sim: the state file ${stateFile} does not exist`, undefined, TARGET_HINT);
  }
}

/** Environment variables the playbook's secrets (token, certificate password) are read from. */
export function secretEnvNames(auth: Playbook['tenant']['auth']): string[] {
  const references = [
    auth.method === 'access-token' ? auth.token : undefined,
    auth.method === 'access-token' ? auth.graphToken : undefined,
    auth.method === 'certificate' || auth.method === 'partner' ? auth.certificatePassword : undefined,
    auth.method === 'partner' ? auth.clientSecret : undefined,
  ];
  const named = references.flatMap((reference) => /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(reference ?? '')?.[1] ?? []);
  // The GitHub OIDC request token lets anyone holding it mint federated tokens: pwsh never needs it.
  return auth.method === 'workload-identity' ? [...named, ...GITHUB_OIDC_ENV] : named;
}

async function startPowerShell(
  options: OpenTargetOptions,
  withheldEnv: string[],
  onRestart: (invoke: Invoker['invoke']) => Promise<void>,
): Promise<PwshSession> {
  const pwsh = findPwsh(options.env);
  if (!pwsh) {
    throw new SessionError(
      'PowerShell 7 was not found (looked at $EXO_PLAYBOOK_PWSH, .tools/pwsh/pwsh, pwsh on PATH): install PowerShell 7.6, run `npm run ensure-pwsh`, or set EXO_PLAYBOOK_PWSH to its path',
    );
  }
  const showDeviceCode = options.onDeviceCode ?? ((message: string) => process.stderr.write(`${message}\n`));
  // A module that signs in with -Device prints its prompt to the console (stdout or stderr), not
  // through the protocol: it must still reach the user.
  const consoleLine = (stream: string) => (line: string) => {
    if (DEVICE_CODE_TEXT.test(line)) showDeviceCode(line);
    else options.log?.(`pwsh ${stream}: ${line}`);
  };
  // Loaded only for this target: a simulated run never needs the PowerShell bridge.
  const [{ PwshSession }, { claimEarlyHost }] = await Promise.all([import('./pwsh/session.js'), import('./pwsh/early-host.js')]);
  const recipe = {
    pwshPath: pwsh.path,
    modulePaths: modulePathsFrom(options.env),
    // Only the allowlisted variables of the CLI's environment (src/exchange/pwsh/environment.ts).
    baseEnv: options.env,
    withheldEnv,
  };
  const hooks = { onStderr: consoleLine('stderr'), onStray: consoleLine('stdout'), onRestart };
  // The host the CLI started at launch, when it is this very one (same pwsh and environment): it is
  // still signed out, like a host started now (early-host.ts).
  const early = claimEarlyHost(recipe, hooks);
  if (early) return early;
  // A write pool's extra session may be abandoned while its host starts (options.signal).
  return PwshSession.start({ ...recipe, modulePaths: [...recipe.modulePaths], ...hooks, ...(options.signal ? { startSignal: options.signal } : {}) });
}
