/**
 * What the engine needs from the rest of the program: the playbook loader, the target opener and the
 * action registry. Passed in (tests give fakes); the CLI uses defaultDeps(), which imports the real
 * modules lazily so `--help` stays fast.
 */
import type { PlanCheck } from '../actions/types.js';
import type { ExchangeSession } from '../exchange/session.js';
import type { GraphClient } from '../graph/client.js';
import type { Playbook } from '../playbook/schema.js';
import type { TenantContext } from '../playbook/tenant-context.js';
import type { SmtpProber } from '../smtp/types.js';
import type { ActionTable } from './observe.js';
import type { PlaybookSource } from './playbook-source.js';

export interface OpenTargetOptions {
  env: NodeJS.ProcessEnv;
  baseDir: string;
  /** The cmdlets this run may call (-CommandName); plan and verify pass only Get-*. */
  cmdlets: readonly string[];
  onDeviceCode?: (message: string) => void;
  log?: (message: string) => void;
  /** Abandons the opening (the write pool closing): a session still starting or signing in is killed, the promise rejects. */
  signal?: AbortSignal;
  /** Called once the host has started (module imported), before it signs in. */
  onStarted?: () => void;
  /** Sign in only once this resolves (the run's own session signed in); the host may start before. Rejects: the opening is abandoned. */
  signInAfter?: Promise<void>;
}

export interface EngineDeps {
  /** runFiles 'warn': a missing usage CSV is no error (explain and rollback never read it). */
  /** `tenant`: a fleet run's tenant context (src/playbook/tenant-context.ts); the engine itself never sets it. */
  loadPlaybook(file: string, options: { env: NodeJS.ProcessEnv; signInEnv?: 'require' | 'warn'; runFiles?: 'require' | 'warn'; tenant?: TenantContext }): Promise<PlaybookSource>;
  openTarget(target: string, tenant: Playbook['tenant'], options: OpenTargetOptions): Promise<ExchangeSession>;
  actions: ActionTable;
  planChecks: readonly PlanCheck[];
  /** Microsoft Graph for the tenant (usage sources); `target` is normalized. Optional for test doubles. */
  openGraph?(target: string, tenant: Playbook['tenant'], options: { env: NodeJS.ProcessEnv; baseDir: string; onDeviceCode?: (message: string) => void }): Promise<GraphClient>;
  /** The SMTP prober for smtp-auth/probe steps on this target. Optional: engines without one refuse probe steps. */
  openProber?(target: string, tenant: Playbook['tenant'], options: Pick<OpenTargetOptions, 'env' | 'baseDir' | 'onDeviceCode'>): Promise<SmtpProber>;
}

export async function defaultDeps(): Promise<EngineDeps> {
  const [load, target, registry] = await Promise.all([
    import('../playbook/load.js'),
    import('../exchange/target.js'),
    import('../actions/registry.js'),
  ]);
  return {
    loadPlaybook: (file, options) => load.loadPlaybook(file, options),
    openTarget: (t, tenant, options) => target.openTarget(t, tenant, { ...options, cmdlets: [...options.cmdlets] }),
    actions: registry.ACTIONS,
    planChecks: registry.PLAN_CHECKS,
    // Only usage steps with Graph sources load the Graph client (and @azure/identity with it).
    openGraph: async (t, tenant, options) => (await import('../graph/open.js')).openGraph(t, tenant, options),
    // Only playbooks with probe steps load the SMTP client.
    openProber: async (t, tenant, options) => (await import('../smtp/open.js')).openProber(t, { ...options, tenant }),
  };
}

/**
 * Sign-in variables (tenant.auth) are needed only when the run signs in to a real tenant; against a
 * simulated one an unset variable must not stop the run (the demo runs on a clean machine).
 */
export function signInEnvFor(normalizedTarget: string): 'require' | 'warn' {
  return normalizedTarget.startsWith('sim:') ? 'warn' : 'require';
}
