/**
 * One pwsh host + stub module shared by the tests of a file: a host start costs ~1.5 s of CPU, and
 * most session tests need only a fresh tenant, not a fresh process.
 *
 * How a shared host is kept honest (no state leaks from one test to the next):
 * - the host's EXO_PLAYBOOK_STUB_STATE is a symlink; `lease(stateFile)` points it (atomically: a new
 *   link renamed over the old one) at the test's own, freshly written state file, and the call
 *   record's link (EXO_PLAYBOOK_STUB_CALLS) at the test's own calls file, or at the null device when
 *   it records none; stderr lines go to that test's listener only. The stub resolves
 *   the link on every call, reads the new file afresh (its cache is keyed on the resolved path) and
 *   restarts its per-tenant call counters (state.faults crashOnCall / crashAfterCall /
 *   throttleEveryN / transientEveryN / errors[].times), as a new host would
 *   (test/fixtures/modules/ExchangeOnlineManagement/Private/State.ps1, Enter-StubCall);
 * - closing a lease does what PwshSession.close() does before the host quits (Disconnect-ExchangeOnline
 *   when the test signed in, which folds the stub's change log into that test's file); the lease
 *   then refuses further calls, as a closed session does;
 * - a lease asked for while another is still open gets a host of its own (closed with the lease);
 * - a host that died during a lease (a crash fault, a timeout) is replaced by PwshSession itself on
 *   that lease's next call; one left dead at the end of a lease is not reused: the next lease starts
 *   a new session. Either way a fresh host reads the links like any other.
 * Nothing else is kept per host: the host's own protocol state is per call.
 */
import { renameSync, symlinkSync } from 'node:fs';
import { devNull } from 'node:os';
import { join } from 'node:path';
import { SessionError } from '../../../src/errors.js';
import type { CmdletParameters, ExchangeSession, InvokeOptions, InvokeResult, PsObject } from '../../../src/exchange/session.js';
import type { PwshSession } from '../../../src/exchange/pwsh/session.js';
import { startStubSession, tempDir } from './pwsh-for-tests.js';

export interface LeaseOptions {
  /** The stub's call record for this test (EXO_PLAYBOOK_STUB_CALLS); none by default. */
  callsFile?: string;
  onStderr?: (line: string) => void;
  onStray?: (line: string) => void;
  /** Called after a fresh host replaced a dead one during this lease (PwshSessionOptions.onRestart). */
  onRestart?: () => void;
}

export class SharedStubHost {
  private readonly dir = tempDir('shared-host');
  private readonly stateLink = join(this.dir, 'state.json');
  private readonly callsLink = join(this.dir, 'calls.jsonl');
  private session: Promise<PwshSession> | undefined;
  private current: Lease | undefined;
  private points = 0;
  private noLinks = false;

  /** A session over `stateFile`: the shared host when it is free, else a host of its own. */
  async lease(stateFile: string, options: LeaseOptions = {}): Promise<Lease | PwshSession> {
    const own = () => startStubSession(stateFile, options.callsFile, { ...(options.onStderr ? { onStderr: options.onStderr } : {}), ...(options.onStray ? { onStray: options.onStray } : {}), ...(options.onRestart ? { onRestart: options.onRestart } : {}) });
    if (this.current || this.noLinks) return own();
    try {
      this.pointAt(this.stateLink, stateFile);
      this.pointAt(this.callsLink, options.callsFile ?? devNull);
    } catch {
      // No symlinks here (Windows without the privilege): every lease is a host of its own.
      this.noLinks = true;
      return own();
    }
    const lease = new Lease(options, async (deadHost) => {
      if (this.current !== lease) return;
      // A lease whose host died (killed, crashed, timed out) and was not replaced by a later call of
      // that lease leaves it dead: the next lease starts a new session rather than restarting this one
      // under the next test (where it would count as that test's restart).
      if (deadHost) {
        const dead = this.session;
        this.session = undefined;
        await (await dead?.catch(() => undefined))?.close();
      }
      this.current = undefined;
    });
    this.current = lease;
    try {
      this.session ??= startStubSession(this.stateLink, this.callsLink, {
        onStderr: (line) => this.current?.options.onStderr?.(line),
        onStray: (line) => this.current?.options.onStray?.(line),
        onRestart: () => this.current?.options.onRestart?.(),
      });
      lease.begin(await this.session);
      return lease;
    } catch (error) {
      this.current = undefined;
      throw error;
    }
  }

  /** Ends the shared host (afterAll). */
  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await (await session?.catch(() => undefined))?.close();
  }

  private pointAt(link: string, target: string): void {
    const next = `${link}.${++this.points}`;
    symlinkSync(target, next);
    renameSync(next, link);
  }
}

/** One test's use of the shared host; close() signs out (folding the stub's log) and frees the host. */
export class Lease implements ExchangeSession {
  readonly kind = 'pwsh' as const;
  private session!: PwshSession;
  private restartsBefore = 0;
  private closed = false;
  /** session.restarts when this lease signed in; undefined when not signed in. */
  private connectedAt: number | undefined;
  /** The host a call of this lease lost (SessionError: it was killed or died). */
  private lostPid: number | undefined;

  constructor(
    readonly options: LeaseOptions,
    private readonly release: (deadHost: boolean) => Promise<void>,
  ) {}

  begin(session: PwshSession): void {
    this.session = session;
    this.restartsBefore = session.restarts;
  }

  /** The host's process id (tests read /proc/<pid>/cmdline). */
  get pid(): number | undefined {
    return this.session.pid;
  }

  get hostInfo(): PwshSession['hostInfo'] {
    return this.session.hostInfo;
  }

  /** How many times a fresh host replaced a dead one during this lease. */
  get restarts(): number {
    return this.session.restarts - this.restartsBefore;
  }

  async invoke(cmdlet: string, parameters?: CmdletParameters, options?: InvokeOptions): Promise<InvokeResult> {
    this.assertOpen();
    const result = await this.session.invoke(cmdlet, parameters, options).catch((error: unknown) => this.lost(error));
    if (/^Connect-ExchangeOnline$/i.test(cmdlet)) this.connectedAt = this.session.restarts;
    if (/^Disconnect-ExchangeOnline$/i.test(cmdlet)) this.connectedAt = undefined;
    return result;
  }

  async *stream(cmdlet: string, parameters?: CmdletParameters, options?: InvokeOptions): AsyncIterable<PsObject> {
    this.assertOpen();
    try {
      yield* this.session.stream(cmdlet, parameters, options);
    } catch (error) {
      this.lost(error);
    }
  }

  /** Notes the host lost with a SessionError (timeout, cancel, death), then rethrows. */
  private lost(error: unknown): never {
    if (error instanceof SessionError) this.lostPid = this.session.pid;
    throw error;
  }

  /** The current host is the one a call lost (no later call of this lease replaced it). */
  private get hostDead(): boolean {
    return this.lostPid !== undefined && this.lostPid === this.session.pid;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      // What PwshSession.close() runs before it ends the host (the stub folds its change log there):
      // only on the host that signed in (a fresh one after a crash starts signed out).
      if (this.connectedAt === this.session.restarts && !this.hostDead) {
        await this.session.invoke('Disconnect-ExchangeOnline', {}, { timeoutMs: 10_000 }).catch(() => undefined);
      }
    } finally {
      await this.release(this.hostDead);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new SessionError('The PowerShell session is closed.');
  }
}
