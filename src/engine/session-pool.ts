/**
 * The sessions the write phase spreads its changes over (`--concurrency N`). A PwshSession runs one
 * call at a time, so N parallel writes need N sessions, each its own pwsh host signed in on its own
 * (Exchange Online allows 3 sessions per user; connecting once per process is what the module wants).
 *
 * Slot 0 is the run's own session (observe and verify keep using it). The other slots are opened
 * either up front (`openAll()`: apply calls it as soon as its own session is signed in; their hosts
 * started when the run's own host had, connect.ts, and they sign in while the observe phase reads, not
 * while the first writes wait) or, without
 * that, when a step really has more than one change to write; they are kept for later steps. Nobody
 * waits for them: a writer starts on the run's session at once and the others join as their sign-in
 * finishes, so a slow sign-in never makes a run slower than a serial one. A session that cannot be
 * opened (sign-in refused, pwsh gone) is not a reason to fail the run: the writes go on over the
 * sessions the pool has, and the caller is told.
 *
 * Closing never waits for a sign-in: a host still starting or signing in is killed (process group,
 * PwshSession.kill), and the signed-in ones sign out and quit in parallel. Killing a host leaves
 * nothing open at the service: the module's cmdlets use REST API connections, with no remote
 * PowerShell session behind them (learn.microsoft.com/powershell/exchange/exchange-online-powershell-v2). Opening a session changes
 * nothing in the tenant, so a run that ends up writing nothing (no changes, declined, refused) has
 * only spent the sign-ins, and leaves no process behind.
 */
import type { ExchangeSession } from '../exchange/session.js';

/** Exchange Online's published limit of concurrent sessions per user. */
export const MAX_SESSIONS = 3;

export interface SessionPool {
  /**
   * One slot per writer, at most the pool's maximum: slot 0 is the run's own session (already
   * resolved); the others resolve when their session is signed in, or to undefined when it could not
   * be opened. Opens what is missing; asking again returns the same slots.
   */
  slots(wanted: number): readonly Promise<ExchangeSession | undefined>[];
  /** Starts opening every extra session now (up to the maximum), without waiting for any of them. */
  openAll(): void;
  /** The extra sessions signed in so far and not closed (e.g. to spread verify's reads over them). */
  ready(): readonly ExchangeSession[];
  /**
   * Kills the hosts still starting or signing in, then closes every signed-in extra session in
   * parallel (the run's own belongs to its opener). Idempotent, and never throws: it runs in
   * `finally`, where it must not hide the result.
   */
  close(): Promise<void>;
}

export interface SessionPoolOptions {
  /** The run's session: always slot 0, never closed by the pool. */
  primary: ExchangeSession;
  /**
   * Opens one more signed-in session on the same target; absent: the pool is just the primary.
   * `signal` fires when the pool closes first: the opening is abandoned (its host killed).
   */
  openExtra?: (signal: AbortSignal) => Promise<ExchangeSession>;
  /** --concurrency, clamped to 1..MAX_SESSIONS. */
  max: number;
  /** No new session is opened once this fires (Ctrl-C: nothing new starts). */
  signal?: AbortSignal;
  /** Told when opening or closing an extra session failed; the run goes on with what it has. */
  onWarning?: (message: string) => void;
  /** Told when an extra session starts opening (e.g. a 'connect' event). */
  onOpening?: (slot: number, of: number) => void;
  /** Told when an extra session is signed in and ready for writes. */
  onOpened?: (slot: number, of: number) => void;
}

export function createSessionPool(options: SessionPoolOptions): SessionPool {
  const max = Math.max(1, Math.min(MAX_SESSIONS, Math.floor(options.max)));
  const slots: Promise<ExchangeSession | undefined>[] = [Promise.resolve(options.primary)];
  const opened: ExchangeSession[] = [];
  // One failed sign-in usually means every further one fails the same way (and each costs a
  // sign-in): stop opening for the rest of the run.
  let gaveUp = false;
  let closed = false;
  let closing: Promise<void> | undefined;
  // Aborted by close(): abandons the openings still in progress.
  const abandon = new AbortController();

  const open = async (slot: number, of: number, openExtra: (signal: AbortSignal) => Promise<ExchangeSession>): Promise<ExchangeSession | undefined> => {
    options.onOpening?.(slot, of);
    let session: ExchangeSession;
    try {
      session = await openExtra(abandon.signal);
    } catch (error) {
      // Abandoned by close(): not a failure anyone needs to hear about.
      if (closed) return undefined;
      gaveUp = true;
      options.onWarning?.(`could not open session ${slot} of ${of} for parallel writes (${reason(error)}); the writes go on over the other sessions`);
      return undefined;
    }
    // close() ran while this one was signing in: it must not outlive the run.
    if (closed) {
      await closeQuietly(session);
      return undefined;
    }
    opened.push(session);
    options.onOpened?.(slot, of);
    return session;
  };

  const closeQuietly = async (session: ExchangeSession) => {
    try {
      await session.close();
    } catch (error) {
      options.onWarning?.(`an extra session did not close cleanly: ${reason(error)}`);
    }
  };

  const slotsFor = (wanted: number) => {
    const count = Math.max(1, Math.min(max, Math.floor(wanted)));
    const openExtra = options.openExtra;
    while (slots.length < count && openExtra && !gaveUp && !closed && !options.signal?.aborted) {
      slots.push(open(slots.length + 1, count, openExtra));
    }
    return slots.slice(0, count);
  };

  return {
    slots: slotsFor,
    openAll() {
      slotsFor(max);
    },
    ready() {
      return closed ? [] : [...opened];
    },
    close() {
      // Memoised: a second caller (the run's `finally`) waits for the same closing.
      closing ??= (async () => {
        closed = true;
        // Hosts still starting or signing in are killed, not waited for (openExtra then rejects).
        abandon.abort();
        // Every extra is closed even when one of them fails to (a stuck host must not keep the others
        // open), all at once; one that finishes signing in now is closed by open() itself.
        await Promise.all([...opened.splice(0).map(closeQuietly), Promise.allSettled(slots)]);
      })();
      return closing;
    },
  };
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
