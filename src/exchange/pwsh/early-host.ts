/**
 * A PowerShell host started before the run knows it needs one (docs/PERFORMANCE.md, "apply"): the
 * CLI starts it at launch for `--target exchange`, while Node loads its modules, reads and validates
 * the playbook and takes the lock, so the ~0.5–1 s PowerShell takes to start and import the module
 * overlaps that work instead of following it.
 *
 * Starting a host writes nothing and signs in to nothing: the sign-in (Connect-ExchangeOnline) runs
 * only when target.ts claims the host, after validation and the lock, exactly as with a host started
 * then. A host is claimed only when it is the one target.ts would start itself (same pwsh, module
 * folders and environment, compared variable by variable); otherwise, and when nobody claims it
 * (validation failed, the lock was held, another command), it is killed.
 */
import { pwshEnvironment } from './environment.js';
import { PwshSession } from './session.js';

export interface HostRecipe {
  pwshPath: string;
  modulePaths: readonly string[];
  /** The environment pwsh's allowlisted variables come from. */
  baseEnv: NodeJS.ProcessEnv;
  /** Variables never passed (secrets): at launch, every `env:NAME` the playbook's text names. */
  withheldEnv: readonly string[];
}

/** The callbacks a claimed host reports to; before the claim its console lines wait here. */
export interface HostHooks {
  onStderr?: (line: string) => void;
  onStray?: (line: string) => void;
  onRestart?: (invoke: PwshSession['invoke']) => Promise<void> | void;
}

interface EarlyHost {
  key: string;
  started: Promise<PwshSession>;
  stop: AbortController;
  hooks: HostHooks;
  held: { stream: 'stderr' | 'stray'; line: string }[];
}

let early: EarlyHost | undefined;

/** What makes two hosts interchangeable: the program, its module folders and its whole environment. */
function keyOf(recipe: HostRecipe): string {
  const env = pwshEnvironment({ base: recipe.baseEnv, withheld: recipe.withheldEnv, modulePaths: recipe.modulePaths });
  const sorted = Object.keys(env)
    .sort()
    .map((name) => [name, env[name]]);
  return JSON.stringify({ pwsh: recipe.pwshPath, modules: recipe.modulePaths, env: sorted });
}

/** Starts the early host (at most one). It stays unsigned-in until claimed. */
export function startEarlyHost(recipe: HostRecipe): void {
  if (early) return;
  const stop = new AbortController();
  const host: EarlyHost = { key: keyOf(recipe), stop, hooks: {}, held: [], started: undefined as unknown as Promise<PwshSession> };
  const line = (stream: 'stderr' | 'stray') => (text: string) => {
    const hook = stream === 'stderr' ? host.hooks.onStderr : host.hooks.onStray;
    if (hook) hook(text);
    else host.held.push({ stream, line: text });
  };
  host.started = PwshSession.start({
    pwshPath: recipe.pwshPath,
    modulePaths: [...recipe.modulePaths],
    baseEnv: recipe.baseEnv,
    withheldEnv: recipe.withheldEnv,
    onStderr: line('stderr'),
    onStray: line('stray'),
    onRestart: (invoke) => host.hooks.onRestart?.(invoke),
    startSignal: stop.signal,
  });
  // Nobody may be waiting yet: a failed start is reported to whoever claims it.
  host.started.catch(() => undefined);
  early = host;
}

/**
 * The early host, when it is the one `recipe` describes: from now on it reports to `hooks` (console
 * lines it wrote before are passed on first). Otherwise undefined, and a different early host is
 * killed: it would run with another environment than the run's.
 */
export function claimEarlyHost(recipe: HostRecipe, hooks: HostHooks): Promise<PwshSession> | undefined {
  const host = early;
  if (!host) return undefined;
  early = undefined;
  if (host.key !== keyOf(recipe)) {
    void stopHost(host);
    return undefined;
  }
  host.hooks = hooks;
  for (const held of host.held.splice(0)) (held.stream === 'stderr' ? hooks.onStderr : hooks.onStray)?.(held.line);
  return host.started;
}

/** Kills an early host nobody claimed (the CLI calls it before it exits, whatever happened). */
export async function discardEarlyHost(): Promise<void> {
  const host = early;
  early = undefined;
  if (host) await stopHost(host);
}

async function stopHost(host: EarlyHost): Promise<void> {
  host.stop.abort();
  // Still starting: the abort killed it. Already started: quit it (it never signed in).
  const session = await host.started.catch(() => undefined);
  await session?.close();
}
