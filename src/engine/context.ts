/**
 * The RunContext handed to actions: the session, the per-run memo of shared reads (one bulk mailbox
 * read serves every step that needs it), time, progress and cancellation.
 */
import type { RunContext } from '../actions/types.js';
import type { ExchangeSession } from '../exchange/session.js';
import type { GraphClient } from '../graph/client.js';

export interface RunContextOptions {
  session: ExchangeSession;
  signal?: AbortSignal;
  /** A simulated tenant advances its own clock per poll, so waiting is pointless there. */
  instantSleep?: boolean;
  /** Default: the session's clock when it has one (a simulated tenant's state.clock), else the real clock. */
  now?: () => Date;
  report?: (message: string) => void;
  /** The playbook's folder (relative paths in `with` resolve against it). */
  baseDir?: string;
  /** Opens Microsoft Graph for the tenant (called at most once per context, on first use). */
  openGraph?: () => GraphClient;
}

export function createRunContext(options: RunContextOptions): RunContext {
  const memo = new Map<string, Promise<unknown>>();
  const signal = options.signal ?? new AbortController().signal;
  return {
    session: options.session,
    shared<T>(key: string, read: () => Promise<T>): Promise<T> {
      let pending = memo.get(key) as Promise<T> | undefined;
      if (!pending) {
        pending = read();
        memo.set(key, pending);
        // A failed read must not poison later callers with a cached rejection forever.
        pending.catch(() => memo.delete(key));
      }
      return pending;
    },
    sleep(ms: number): Promise<void> {
      if (options.instantSleep || ms <= 0) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, ms);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
    },
    // The tenant's clock, not the machine's: a search window or job age computed from a different
    // clock than the tenant's would disagree with it by however far apart the two are.
    now: options.now ?? (options.session.now ? () => options.session.now!() : () => new Date()),
    report: options.report ?? (() => {}),
    signal,
    ...(options.baseDir ? { baseDir: options.baseDir } : {}),
    ...(options.openGraph ? { graph: once(options.openGraph) } : {}),
  };
}

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}
