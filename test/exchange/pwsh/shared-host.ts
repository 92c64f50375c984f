/**
 * One pwsh host + stub module shared by the tests of a file: a host start costs ~1.5 s of CPU, and
 * most session tests need only a fresh tenant, not a fresh process.
 *
 * How a shared host is kept honest (no state leaks from one test to the next):
 * - the host's EXO_PLAYBOOK_STUB_STATE is a symlink; `lease(stateFile)` points it (atomically: a new
 *   link renamed over the old one) at the test's own, freshly written state file. The stub resolves
 *   the link on every call, reads the new file afresh (its cache is keyed on the resolved path) and
 *   restarts its per-tenant call counters (state.faults crashOnCall / crashAfterCall /
 *   throttleEveryN / transientEveryN / errors[].times), as a new host would
 *   (test/fixtures/modules/ExchangeOnlineManagement/Private/State.ps1, Enter-StubCall);
 * - closing a lease does what PwshSession.close() does before the host quits (Disconnect-ExchangeOnline
 *   when the test signed in, which folds the stub's change log into that test's file); the lease
 *   then refuses further calls, as a closed session does;
 * - a lease asked for while another is still open gets a host of its own (closed with the lease);
 * - a host that died (a crash fault) is replaced by PwshSession itself on the next call; the
 *   fresh host reads the link like any other.
 * Nothing else is kept per host: the host's own protocol state is per call.
 */
import { renameSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { SessionError } from '../../../src/errors.js';
import type { CmdletParameters, ExchangeSession, InvokeOptions, InvokeResult, PsObject } from '../../../src/exchange/session.js';
import type { PwshSession } from '../../../src/exchange/pwsh/session.js';
import { startStubSession, tempDir } from './pwsh-for-tests.js';

export class SharedStubHost {
  private readonly link = join(tempDir('shared-host'), 'state.json');
  private session: Promise<PwshSession> | undefined;
  private busy = false;
  private points = 0;

  /** A session over `stateFile`: the shared host when it is free, else a host of its own. */
  async lease(stateFile: string): Promise<ExchangeSession> {
    if (this.busy) return startStubSession(stateFile);
    this.busy = true;
    try {
      this.pointAt(stateFile);
      this.session ??= startStubSession(this.link);
      const session = await this.session;
      return new Lease(session, () => (this.busy = false));
    } catch (error) {
      this.busy = false;
      throw error;
    }
  }

  /** Ends the shared host (afterAll). */
  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await (await session?.catch(() => undefined))?.close();
  }

  private pointAt(stateFile: string): void {
    const next = `${this.link}.${++this.points}`;
    symlinkSync(stateFile, next);
    renameSync(next, this.link);
  }
}

/** One test's use of the shared host; close() signs out (folding the stub's log) and frees the host. */
class Lease implements ExchangeSession {
  readonly kind = 'pwsh' as const;
  private closed = false;
  private connected = false;

  constructor(
    private readonly session: PwshSession,
    private readonly release: () => void,
  ) {}

  async invoke(cmdlet: string, parameters?: CmdletParameters, options?: InvokeOptions): Promise<InvokeResult> {
    this.assertOpen();
    const result = await this.session.invoke(cmdlet, parameters, options);
    if (/^Connect-ExchangeOnline$/i.test(cmdlet)) this.connected = true;
    if (/^Disconnect-ExchangeOnline$/i.test(cmdlet)) this.connected = false;
    return result;
  }

  async *stream(cmdlet: string, parameters?: CmdletParameters, options?: InvokeOptions): AsyncIterable<PsObject> {
    this.assertOpen();
    yield* this.session.stream(cmdlet, parameters, options);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      // What PwshSession.close() runs before it ends the host (the stub folds its change log there).
      if (this.connected) await this.session.invoke('Disconnect-ExchangeOnline', {}, { timeoutMs: 10_000 }).catch(() => undefined);
    } finally {
      this.release();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new SessionError('The PowerShell session is closed.');
  }
}
