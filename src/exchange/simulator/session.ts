/**
 * SimulatedSession: the in-process Exchange Online tenant behind `--target sim:<state.json>`.
 * Semantics follow the team's EXCHANGE-FACTS notes (shared/EXCHANGE-FACTS.md) and match the stub ExchangeOnlineManagement module
 * (test/fixtures/modules), which works over the same state file; the conformance suite compares them.
 *
 * The state file is read once when the first session on it opens. Every call that changed the tenant
 * (writes, and Get-HistoricalSearch advancing a job) appends its changes to the file's change log
 * before it returns (change-log.ts): a write costs the same on 100 mailboxes as on 100,000. The log is
 * folded into the file (an atomic rewrite) when it grows long and when the last session closes.
 * Sessions opened on the same file in one process share one in-memory tenant, so a pool of sessions
 * cannot overwrite each other's changes with stale copies.
 */
import { appendFileSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SessionError } from '../../errors.js';
import {
  CmdletFailure,
  type CmdletErrorRecord,
  type CmdletParameters,
  type ExchangeSession,
  type InvokeOptions,
  type InvokeResult,
  type PsObject,
  type PsValue,
} from '../session.js';
import { findCmdlet, SIMULATED_CMDLETS } from './cmdlets/index.js';
import type { CmdletContext } from './cmdlets/context.js';
import { injectFault, injectLostReply, simulateLatency } from './faults.js';
import { bindParameters } from './parameters.js';
import { commandNotFound } from './records.js';
import { ChangeLog, shouldFold, type TenantChange } from './change-log.js';
import { loadStateFile, MailboxLineCache, writeStateFile } from './state-file.js';
import type { TenantState } from './state.js';
import { Tenant } from './tenant.js';

export interface SimulatedSessionOptions {
  /** Added to every call; overrides state.faults.latencyMs. */
  latencyMs?: number;
  /** Append every call (cmdlet + parameters, secrets redacted) as a JSON line to this file.
   *  Default: the file named by env EXO_PLAYBOOK_SIM_CALL_LOG, if set (lets end-to-end tests count calls). */
  callLog?: string;
}

/** Parameters whose values are never written to the call log. */
const ALWAYS_SECRET = ['AccessToken', 'CertificatePassword'];

interface SharedTenant {
  tenant: Tenant;
  /** null for an in-memory tenant (fromState). */
  path: string | null;
  sessions: number;
  /** Appends and folds run one after another. */
  saving: Promise<void>;
  /** null for an in-memory tenant. */
  log: ChangeLog | null;
  lines: MailboxLineCache;
}

const openTenants = new Map<string, Promise<SharedTenant>>();

export class SimulatedSession implements ExchangeSession {
  readonly kind = 'simulator' as const;
  private calls = 0;
  private closed = false;
  /** How often each faults.errors entry fired in this session (its `times`). */
  private readonly faultHits = new Map<number, number>();

  private constructor(
    private readonly shared: SharedTenant,
    private readonly options: SimulatedSessionOptions,
  ) {}

  static async open(stateFile: string, options: SimulatedSessionOptions = {}): Promise<SimulatedSession> {
    // The file a symlink or another spelling names: its change log sits beside the real file, so
    // every path to one tenant reads and writes the same log (and shares one tenant in-process).
    const path = await realpath(resolve(stateFile)).catch(() => resolve(stateFile));
    let pending = openTenants.get(path);
    if (!pending) {
      pending = openShared(path);
      openTenants.set(path, pending);
      pending.catch(() => openTenants.delete(path));
    }
    const shared = await pending;
    shared.sessions++;
    return new SimulatedSession(shared, withEnvDefaults(options));
  }

  /** A session over a tenant held only in memory (tests); nothing is written anywhere. */
  static fromState(state: TenantState, options: SimulatedSessionOptions = {}): SimulatedSession {
    return new SimulatedSession({ tenant: new Tenant(state), path: null, sessions: 1, saving: Promise.resolve(), log: null, lines: new MailboxLineCache() }, options);
  }

  /** The live tenant state (shared by all sessions on the same file). */
  get state(): TenantState {
    return this.shared.tenant.state;
  }

  /** The tenant's clock: state.clock when set (searches and activity are dated by it), else the real one. */
  now(): Date {
    return this.shared.tenant.now();
  }

  async invoke(cmdlet: string, parameters: CmdletParameters = {}, options: InvokeOptions = {}): Promise<InvokeResult> {
    const result: InvokeResult = { objects: [], warnings: [], errors: [] };
    for await (const object of this.execute(cmdlet, parameters, options, result)) result.objects.push(object);
    return result;
  }

  async *stream(cmdlet: string, parameters: CmdletParameters = {}, options: InvokeOptions = {}): AsyncIterable<PsObject> {
    const collected: InvokeResult = { objects: [], warnings: [], errors: [] };
    yield* this.execute(cmdlet, parameters, options, collected);
    const first = collected.errors[0];
    if (first) throw new CmdletFailure(cmdlet, first);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const shared = this.shared;
    shared.sessions--;
    if (shared.sessions === 0 && shared.path) {
      // The last session folds the log, so the file alone holds the tenant again for the next reader.
      // The tenant stays open (and shared) until then: a session opened meanwhile reuses it.
      // No line cache for this save: nothing reuses it once the tenant is closed, and keeping a line per
      // mailbox (the whole file again, as strings) made this last save the run's peak of memory.
      await this.persist(async () => {
        if (shared.log?.pending) await fold(shared, { keepLines: false });
      });
      if (shared.sessions === 0) openTenants.delete(shared.path);
    }
    await shared.saving.catch(() => undefined);
  }

  private async *execute(
    cmdletName: string,
    parameters: CmdletParameters,
    options: InvokeOptions,
    sink: InvokeResult,
  ): AsyncGenerator<PsObject> {
    if (this.closed) throw new SessionError(`the simulated Exchange session is closed (${cmdletName})`);
    const call = ++this.calls;
    this.logCall(cmdletName, parameters, options);
    const cmdlet = findCmdlet(cmdletName);
    if (!cmdlet) throw new CmdletFailure(cmdletName, commandNotFound(cmdletName));
    const definition = SIMULATED_CMDLETS[cmdlet];
    const bound = bindParameters(cmdlet, definition.parameters, parameters);

    const { tenant } = this.shared;
    const faults = tenant.state.faults ?? {};
    const latency = this.options.latencyMs ?? faults.latencyByCmdlet?.[cmdlet] ?? faults.latencyMs ?? 0;
    await simulateLatency(latency, cmdlet, options.timeoutMs, options.signal);
    const fault = injectFault(faults, { call, cmdlet, parameters: bound, server: tenant.server, hits: this.faultHits });

    const changes: TenantChange[] = [];
    const context: CmdletContext = {
      cmdlet,
      tenant,
      parameters: bound,
      now: () => tenant.now(),
      warn: (message) => {
        if (bound.warningAction === 'SilentlyContinue' || bound.warningAction === 'Ignore') return;
        sink.warnings.push(message);
        options.onWarning?.(message);
      },
      writeError: (record: CmdletErrorRecord) => {
        if (bound.errorAction === 'Stop') throw new CmdletFailure(cmdlet, record);
        if (bound.errorAction === 'SilentlyContinue' || bound.errorAction === 'Ignore') return;
        sink.errors.push(record);
      },
      changed: (change) => {
        changes.push(change);
      },
    };
    if (fault && fault.afterObjects === undefined) {
      // The service refused the call: nothing ran, nothing changed.
      context.writeError(fault.record);
      return;
    }
    try {
      let streamed = 0;
      for (const object of definition.run(context)) {
        if (options.signal?.aborted) throw new SessionError(`${cmdlet} was cancelled`);
        if (fault && streamed >= fault.afterObjects!) break;
        yield object;
        streamed += 1;
        if (faults.streamDelayMs && streamed % 500 === 0) await simulateLatency(faults.streamDelayMs, cmdlet, undefined, options.signal);
      }
      // A bulk read cut off mid-stream: the objects so far, then the error record, then nothing more.
      if (fault) context.writeError(fault.record);
    } finally {
      if (changes.length > 0) await this.save(changes);
    }
    injectLostReply(tenant.state.faults ?? {}, call, cmdlet, changes.length > 0);
  }

  /** Logs one call's changes, and folds the log into the file when it has grown long. */
  private async save(changes: readonly TenantChange[]): Promise<void> {
    const shared = this.shared;
    const log = shared.log;
    if (!log) return;
    await this.persist(async () => {
      await log.append(changes, shared.tenant.state);
      if (shouldFold(log.pending, shared.tenant.state.mailboxes.length)) await fold(shared);
    });
  }

  /** Runs one persistence step after the ones before it; a failure is this call's, not the next one's. */
  private async persist(step: () => Promise<void>): Promise<void> {
    const shared = this.shared;
    const run = shared.saving.catch(() => undefined).then(step);
    shared.saving = run;
    try {
      await run;
    } catch (error) {
      throw new SessionError(`could not save the simulated tenant to ${shared.path}: ${(error as Error).message}`);
    }
  }

  private logCall(cmdlet: string, parameters: CmdletParameters, options: InvokeOptions): void {
    const file = this.options.callLog;
    if (!file) return;
    const secret = new Set([...ALWAYS_SECRET, ...(options.secretParameters ?? [])].map((s) => s.toLowerCase()));
    const logged: Record<string, PsValue> = {};
    for (const [name, value] of Object.entries(parameters)) logged[name] = secret.has(name.toLowerCase()) ? '<redacted>' : value;
    appendFileSync(file, JSON.stringify({ cmdlet, parameters: logged }) + '\n');
  }
}

async function openShared(path: string): Promise<SharedTenant> {
  const { state, replayed } = await loadStateFile(path);
  const shared: SharedTenant = { tenant: new Tenant(state), path, sessions: 0, saving: Promise.resolve(), log: new ChangeLog(path), lines: new MailboxLineCache() };
  // A log left by a killed process was replayed: fold it now, so this process's log starts clean.
  if (replayed > 0) await fold(shared);
  return shared;
}

/** The whole state to the file (atomic), then the log it now contains is dropped (change-log.ts). */
async function fold(shared: SharedTenant, options: { keepLines?: boolean } = {}): Promise<void> {
  if (!shared.path || !shared.log) return;
  await writeStateFile(shared.path, shared.tenant.state, options.keepLines === false ? undefined : shared.lines);
  await shared.log.folded();
}

function withEnvDefaults(options: SimulatedSessionOptions): SimulatedSessionOptions {
  const callLog = options.callLog ?? process.env.EXO_PLAYBOOK_SIM_CALL_LOG;
  return callLog ? { ...options, callLog } : options;
}
