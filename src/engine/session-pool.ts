/**
 * The sessions the write phase spreads its changes over (`--concurrency N`). A PwshSession runs one
 * call at a time, so N parallel writes need N sessions, each its own pwsh host signed in on its own
 * (Exchange Online allows 3 sessions per user; connecting once per process is what the module wants).
 *
 * Slot 0 is the run's own session (observe and verify keep using it). The other slots are opened only
 * when a step really has more than one change to write, and kept for later steps. Nobody waits for
 * them: a writer starts on the run's session at once and the others join as their sign-in finishes,
 * so a slow sign-in never makes a run slower than a serial one. A session that cannot be opened
 * (sign-in refused, pwsh gone) is not a reason to fail the run: the writes go on over the sessions
 * the pool has, and the caller is told.
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
  /**
   * Waits for sign-ins still in progress, then closes every extra session (the run's own belongs to
   * its opener). Idempotent, and never throws: it runs in `finally`, where it must not hide the result.
   */
  close(): Promise<void>;
}

export interface SessionPoolOptions {
  /** The run's session: always slot 0, never closed by the pool. */
  primary: ExchangeSession;
  /** Opens one more signed-in session on the same target; absent: the pool is just the primary. */
  openExtra?: () => Promise<ExchangeSession>;
  /** --concurrency, clamped to 1..MAX_SESSIONS. */
  max: number;
  /** No new session is opened once this fires (Ctrl-C: nothing new starts). */
  signal?: AbortSignal;
  /** Told when opening or closing an extra session failed; the run goes on with what it has. */
  onWarning?: (message: string) => void;
  /** Told when an extra session starts opening (e.g. a 'connect' event). */
  onOpening?: (slot: number, of: number) => void;
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

  const open = async (slot: number, of: number, openExtra: () => Promise<ExchangeSession>): Promise<ExchangeSession | undefined> => {
    options.onOpening?.(slot, of);
    let session: ExchangeSession;
    try {
      session = await openExtra();
    } catch (error) {
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
    return session;
  };

  const closeQuietly = async (session: ExchangeSession) => {
    try {
      await session.close();
    } catch (error) {
      options.onWarning?.(`an extra session did not close cleanly: ${reason(error)}`);
    }
  };

  return {
    slots(wanted) {
      const count = Math.max(1, Math.min(max, Math.floor(wanted)));
      const openExtra = options.openExtra;
      while (slots.length < count && openExtra && !gaveUp && !closed && !options.signal?.aborted) {
        slots.push(open(slots.length + 1, count, openExtra));
      }
      return slots.slice(0, count);
    },
    close() {
      // Memoised: a second caller (the run's `finally`) waits for the same closing.
      closing ??= (async () => {
        closed = true;
        await Promise.allSettled(slots);
        // Every extra is closed even when one of them fails to (a stuck host must not keep the others open).
        await Promise.all(opened.splice(0).map(closeQuietly));
      })();
      return closing;
    },
  };
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
