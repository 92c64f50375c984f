/**
 * What the engine needs from the rest of the program: the playbook loader, the target opener and the
 * action registry. Passed in (tests give fakes); the CLI uses defaultDeps(), which imports the real
 * modules lazily so `--help` stays fast.
 */
import type { ActionDefinition, PlanCheck } from '../actions/types.js';
import type { ExchangeSession } from '../exchange/session.js';
import type { Playbook } from '../playbook/schema.js';
import type { PlaybookSource } from './playbook-source.js';

export interface OpenTargetOptions {
  env: NodeJS.ProcessEnv;
  baseDir: string;
  /** The cmdlets this run may call (-CommandName); plan and verify pass only Get-*. */
  cmdlets: readonly string[];
  onDeviceCode?: (message: string) => void;
  log?: (message: string) => void;
}

export interface EngineDeps {
  loadPlaybook(file: string, options: { env: NodeJS.ProcessEnv }): Promise<PlaybookSource>;
  openTarget(target: string, tenant: Playbook['tenant'], options: OpenTargetOptions): Promise<ExchangeSession>;
  actions: Readonly<Record<string, ActionDefinition<never, unknown>>>;
  planChecks: readonly PlanCheck[];
}

// Specifiers kept in variables: the modules are other engineers' and are resolved at run time.
const LOAD = '../playbook/load.js';
const TARGET = '../exchange/target.js';
const REGISTRY = '../actions/registry.js';

export async function defaultDeps(): Promise<EngineDeps> {
  const [load, target, registry] = await Promise.all([import(LOAD), import(TARGET), import(REGISTRY)]);
  return {
    loadPlaybook: load.loadPlaybook,
    openTarget: target.openTarget,
    actions: registry.ACTIONS,
    planChecks: registry.PLAN_CHECKS ?? [],
  };
}
