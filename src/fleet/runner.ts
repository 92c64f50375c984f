/**
 * Runs one command over many tenants: each tenant is today's single-tenant run (runPlan, runVerify,
 * runApply, runRollback: the functions the single-tenant commands call), handed that tenant's context
 * through the playbook loader (src/playbook/tenant-context.ts) and nothing else. So each tenant has its
 * own sessions, lock, run folder (runs/<tenant>/<run>), journal, lockout guard and usage evidence,
 * exactly as a single-tenant run would; this module only schedules them and collects the results.
 *
 * Scheduling: at most `parallel` tenants at once, in inventory order. A tenant's failure (sign-in
 * refused, lock held, guard refusal, drift) never stops the others, unless `failFast` (then no new
 * tenant starts once one failed). A stop signal (Ctrl-C, SIGTERM, SIGHUP) starts no new tenant and is
 * handed to the write runs in flight, which finish their write in flight as a single run does.
 */
import { join } from 'node:path';
import type { EngineDeps } from '../engine/deps.js';
import type { EventSink, RunEvent } from '../engine/types.js';
import { ExitCode } from '../errors.js';
import { tenantContext, type Inventory, type InventoryTenant } from './inventory.js';
import { tenantFailure, type FleetTenantResult } from './result.js';

/** What one tenant's run is given: deps whose loader knows the tenant, its target, its runs folder. */
export interface TenantRun {
  tenant: InventoryTenant;
  deps: EngineDeps;
  /** exchange or sim:<absolute state file>. */
  target: string;
  /** <runs-dir>/<tenant id> */
  runsDir: string;
  sinks: EventSink[];
}

/** The part of a tenant's row the command fills in (status, exit code, message and its report). */
export type TenantOutcome = Pick<FleetTenantResult, 'status' | 'exitCode' | 'message'> & Partial<Pick<FleetTenantResult, 'plan' | 'planFile' | 'verify' | 'apply' | 'runDir' | 'error'>>;

export interface FleetRunOptions {
  inventory: Inventory;
  tenants: readonly InventoryTenant[];
  deps: EngineDeps;
  /** --target when given explicitly: overrides every tenant's own; else the tenant's, else exchange. */
  targetOverride?: string;
  runsDir: string;
  parallel: number;
  failFast: boolean;
  signal?: AbortSignal;
  /** Events of every tenant's run (each event gets a `tenant` field). */
  sinks?: readonly EventSink[];
  onStart?: (tenant: InventoryTenant, running: number) => void;
  onEnd?: (result: FleetTenantResult, done: number, of: number) => void;
  run: (run: TenantRun) => Promise<TenantOutcome>;
}

/** A tenant's target: --target given on the command line, else the inventory's, else exchange. */
export function targetOf(tenant: InventoryTenant, override: string | undefined): string {
  return override ?? tenant.target ?? 'exchange';
}

/** Exit codes after which --fail-fast starts no new tenant: anything but success and changes/drift. */
export function isFailure(code: number): boolean {
  return code !== ExitCode.ok && code !== ExitCode.changesOrDrift;
}

export async function runFleet(options: FleetRunOptions): Promise<FleetTenantResult[]> {
  const results: FleetTenantResult[] = new Array(options.tenants.length);
  let next = 0;
  let done = 0;
  let running = 0;
  let stoppedBy: string | undefined;
  const worker = async (): Promise<void> => {
    for (;;) {
      if (options.signal?.aborted) stoppedBy ??= 'interrupted: the fleet run was stopped before this tenant started';
      if (stoppedBy || next >= options.tenants.length) return;
      const position = next++;
      const tenant = options.tenants[position]!;
      running += 1;
      options.onStart?.(tenant, running);
      const result = await runTenant(tenant, options);
      running -= 1;
      results[position] = result;
      done += 1;
      options.onEnd?.(result, done, options.tenants.length);
      if (options.failFast && isFailure(result.exitCode)) stoppedBy ??= `not started: --fail-fast after ${tenant.id} failed (exit ${result.exitCode})`;
    }
  };
  const workers = Math.max(1, Math.min(Math.floor(options.parallel), options.tenants.length));
  await Promise.all(Array.from({ length: workers }, worker));
  options.tenants.forEach((tenant, position) => {
    if (results[position]) return;
    const interrupted = options.signal?.aborted === true;
    results[position] = {
      ...identity(tenant, targetOf(tenant, options.targetOverride)),
      status: 'not-run',
      // Interrupted: a refusal (4) as a single interrupted run; --fail-fast: the fleet's error.
      exitCode: interrupted ? ExitCode.refused : ExitCode.error,
      message: stoppedBy ?? 'not started',
      durationMs: 0,
    };
  });
  return results;
}

async function runTenant(tenant: InventoryTenant, options: FleetRunOptions): Promise<FleetTenantResult> {
  const target = targetOf(tenant, options.targetOverride);
  const context = tenantContext(tenant, options.inventory);
  const deps: EngineDeps = { ...options.deps, loadPlaybook: (file, load) => options.deps.loadPlaybook(file, { ...load, tenant: context }) };
  const sinks = (options.sinks ?? []).map((sink): EventSink => ({ emit: (event: RunEvent) => sink.emit({ ...event, tenant: tenant.id }) }));
  const started = Date.now();
  let outcome: TenantOutcome;
  try {
    outcome = await options.run({ tenant, deps, target, runsDir: join(options.runsDir, tenant.id), sinks });
  } catch (error) {
    outcome = tenantFailure(error);
  }
  return { ...identity(tenant, target), ...outcome, durationMs: Date.now() - started };
}

export function identity(tenant: InventoryTenant, target: string): Pick<FleetTenantResult, 'index' | 'id' | 'name' | 'tenantId' | 'tags' | 'target'> {
  return {
    index: tenant.index,
    id: tenant.id,
    ...(tenant.name ? { name: tenant.name } : {}),
    ...(tenant.tenantId ? { tenantId: tenant.tenantId } : {}),
    tags: tenant.tags,
    target,
  };
}
