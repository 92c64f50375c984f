/**
 * The RunContext handed to actions: the session, the per-run memo of shared reads (one bulk mailbox
 * read serves every step that needs it), time, progress and cancellation.
 */
import type { RunContext } from '../actions/types.js';
import type { ExchangeSession } from '../exchange/session.js';
import type { GraphClient } from '../graph/client.js';
import type { SmtpProber } from '../smtp/types.js';

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
  /** The playbook's folder and its fileRoots: where `with` files may be read from. */
  fileRoots?: readonly string[];
  /** Opens Microsoft Graph for the tenant (called at most once per context, on first use). */
  openGraph?: () => Promise<GraphClient>;
  smtp?: SmtpProber;
  /** The state file of a `sim:` target. */
  simulatedTenant?: string;
  /** Shared reads this context starts with (verify after apply carries over what writes cannot have changed). */
  seed?: ReadonlyMap<string, Promise<unknown>>;
}

const memos = new WeakMap<RunContext, ReadonlyMap<string, Promise<unknown>>>();

/** The shared reads a context made (or was seeded with) so far, by key. */
export function sharedReadsOf(ctx: RunContext): ReadonlyMap<string, Promise<unknown>> {
  return memos.get(ctx) ?? new Map();
}

export function createRunContext(options: RunContextOptions): RunContext {
  const memo = new Map<string, Promise<unknown>>(options.seed ?? []);
  const signal = options.signal ?? new AbortController().signal;
  const ctx: RunContext = {
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
    ...(options.fileRoots ? { fileRoots: options.fileRoots } : {}),
    ...(options.openGraph ? { graph: once(options.openGraph) } : {}),
    ...(options.smtp ? { smtp: options.smtp } : {}),
    ...(options.simulatedTenant ? { simulatedTenant: options.simulatedTenant } : {}),
  };
  memos.set(ctx, memo);
  return ctx;
}

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}
