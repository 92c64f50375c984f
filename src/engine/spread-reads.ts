/**
 * The observe phase's reads spread over every signed-in session of the run (apply --concurrency N).
 *
 * A session runs one call at a time, so with one session every read waits for the one before it.
 * The write pool's extra sessions sign in while observe reads (connect.ts), and would sit idle until
 * the first write: this session hands each read (a Get- cmdlet) to whichever session is free, the
 * run's own first, and lets an extra join as soon as it is signed in. Reads that the actions start
 * side by side (the organization config beside the authentication policies, say) then take one
 * round trip instead of one each.
 *
 * What it does not change:
 * - Anything that is not a read (a write, a search submission, sign-in) goes to the run's own
 *   session, in the order it was asked for among the calls waiting for it.
 * - Nothing waits for an extra: a read starts on the first free session, and an extra that never
 *   signs in (undefined) just never takes one.
 * - Each read is still one call on one session, judged, retried and counted by that session's own
 *   guards (connect.ts wraps the extras like the run's own).
 * - A read asked for after its stop signal fired (Ctrl-C), or still waiting for a free session
 *   when it fires, is given up and never starts, like a read waiting inside a session.
 */
import type { CmdletParameters, ExchangeSession, InvokeOptions, PsObject } from '../exchange/session.js';
import { clockOf, isWriteCmdlet } from '../exchange/session.js';
import { InterruptedRead } from './session-guards.js';

interface Waiter {
  /** Only the run's own session may take it (not a read). */
  ownOnly: boolean;
  take: (session: ExchangeSession) => void;
}

export function spreadingReads(own: ExchangeSession, extras: readonly Promise<ExchangeSession | undefined>[]): ExchangeSession {
  // Free sessions, the run's own first when free: with nothing else signed in, this is that session.
  const free: ExchangeSession[] = [own];
  const waiting: Waiter[] = [];

  const release = (session: ExchangeSession) => {
    const index = waiting.findIndex((w) => !w.ownOnly || session === own);
    if (index >= 0) {
      const [waiter] = waiting.splice(index, 1);
      waiter!.take(session);
      return;
    }
    if (session === own) free.unshift(session);
    else free.push(session);
  };

  for (const extra of extras) {
    extra.then(
      (session) => {
        if (session) release(session);
      },
      () => undefined,
    );
  }

  const acquire = (cmdlet: string, signal: AbortSignal | undefined): Promise<ExchangeSession> => {
    if (signal?.aborted) return Promise.reject(new InterruptedRead(cmdlet));
    const ownOnly = isWriteCmdlet(cmdlet);
    const index = free.findIndex((s) => !ownOnly || s === own);
    if (index >= 0) return Promise.resolve(free.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        ownOnly,
        take: (session) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(session);
        },
      };
      const onAbort = () => {
        const at = waiting.indexOf(waiter);
        if (at >= 0) waiting.splice(at, 1);
        reject(new InterruptedRead(cmdlet));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      waiting.push(waiter);
    });
  };

  return {
    kind: own.kind,
    ...clockOf(own),
    async invoke(cmdlet: string, parameters?: CmdletParameters, options?: InvokeOptions) {
      const session = await acquire(cmdlet, options?.signal);
      try {
        return await session.invoke(cmdlet, parameters, options);
      } finally {
        release(session);
      }
    },
    async *stream(cmdlet: string, parameters?: CmdletParameters, options?: InvokeOptions): AsyncGenerator<PsObject> {
      const session = await acquire(cmdlet, options?.signal);
      try {
        yield* session.stream(cmdlet, parameters, options);
      } finally {
        release(session);
      }
    },
    // The sessions belong to the run and the pool, which close them.
    close: () => own.close(),
  };
}
