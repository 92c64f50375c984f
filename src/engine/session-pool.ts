/**
 * The sessions the write phase spreads its changes over (`--concurrency N`). A PwshSession runs one
 * call at a time, so N parallel writes need N sessions, each its own pwsh host signed in on its own
 * (Exchange Online allows 3 sessions per user; connecting once per process is what the module wants).
 *
 * The first session is the run's own (observe and verify keep using it). Extra ones are opened only
 * when a step really has more than one change to write, and kept for later steps. A session that
 * cannot be opened (sign-in refused, pwsh gone) is not a reason to fail the run: the writes go on
 * with the sessions the pool has, and the caller is told once.
 */
import type { ExchangeSession } from '../exchange/session.js';

/** Exchange Online's published limit of concurrent sessions per user. */
export const MAX_SESSIONS = 3;

export interface SessionPool {
  /**
   * Up to `wanted` sessions (never more than the pool's maximum), the run's own first. Opens the
   * missing ones; returns fewer when opening failed. Always at least one.
   */
  sessionsFor(wanted: number): Promise<readonly ExchangeSession[]>;
  /**
   * Closes every extra session this pool opened (the run's own session belongs to its opener).
   * Idempotent, and never throws: it runs in `finally` blocks, where it must not hide the run's result.
   */
  close(): Promise<void>;
}

export interface SessionPoolOptions {
  /** The run's session: always the first of the pool, never closed by it. */
  primary: ExchangeSession;
  /** Opens one more signed-in session on the same target; absent: the pool is just the primary. */
  openExtra?: () => Promise<ExchangeSession>;
  /** --concurrency, clamped to 1..MAX_SESSIONS. */
  max: number;
  /** No new session is opened once this fires (Ctrl-C: nothing new starts). */
  signal?: AbortSignal;
  /** Told when opening or closing an extra session failed; the run goes on with what it has. */
  onWarning?: (message: string) => void;
  /** Told when an extra session is about to be opened (e.g. a 'connect' event). */
  onOpening?: (index: number, of: number) => void;
}

export function createSessionPool(options: SessionPoolOptions): SessionPool {
  const max = Math.max(1, Math.min(MAX_SESSIONS, Math.floor(options.max)));
  const sessions: ExchangeSession[] = [options.primary];
  const extras: ExchangeSession[] = [];
  // One failed opening usually means every further one fails the same way (and costs a sign-in):
  // stop trying for the rest of the run.
  let gaveUp = false;
  let closed = false;
  // Steps ask one after another, but a caller racing itself must not open more than `max`.
  let opening: Promise<unknown> = Promise.resolve();

  const grow = async (target: number): Promise<void> => {
    const missing = target - sessions.length;
    if (missing <= 0 || gaveUp || closed || !options.openExtra || options.signal?.aborted) return;
    const openExtra = options.openExtra;
    const settled = await Promise.allSettled(
      Array.from({ length: missing }, (_, i) => {
        options.onOpening?.(sessions.length + i + 1, target);
        return openExtra();
      }),
    );
    const failures: unknown[] = [];
    for (const outcome of settled) {
      if (outcome.status === 'rejected') {
        failures.push(outcome.reason);
        continue;
      }
      // close() ran while this one was signing in: it must not outlive the run.
      if (closed) await outcome.value.close().catch(() => undefined);
      else {
        sessions.push(outcome.value);
        extras.push(outcome.value);
      }
    }
    if (failures.length) {
      gaveUp = true;
      options.onWarning?.(
        `could not open ${failures.length} extra session${failures.length === 1 ? '' : 's'} for parallel writes (${reason(failures[0])}); ` +
          `continuing with ${sessions.length} session${sessions.length === 1 ? '' : 's'}`,
      );
    }
  };

  return {
    async sessionsFor(wanted) {
      const target = Math.max(1, Math.min(max, Math.floor(wanted)));
      const turn = opening.then(() => grow(target));
      opening = turn.catch(() => undefined);
      await turn;
      return sessions.slice(0, target);
    },
    async close() {
      if (closed) {
        await opening;
        return;
      }
      closed = true;
      await opening;
      const closing = extras.splice(0);
      sessions.length = 1;
      // Every extra is closed even when one of them fails to (a stuck host must not keep the others open).
      const outcomes = await Promise.allSettled(closing.map((s) => s.close()));
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) options.onWarning?.(`an extra session did not close cleanly: ${reason(failed.reason)}`);
    },
  };
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
