/**
 * Session wrappers the engine puts between actions and the backend: plan and verify get a session
 * that refuses writes (read-only is enforced, not hoped for), apply gets one that counts writes.
 */
import type { CmdletParameters, ExchangeSession, InvokeOptions, InvokeResult, PsObject } from '../exchange/session.js';
import { clockOf, CmdletFailure, isWriteCmdlet, SessionLost } from '../exchange/session.js';
import { backoffDelay, isThrottling, withRetry, type RetryPolicy } from './retry.js';

export class ReadOnlyViolation extends Error {
  constructor(cmdlet: string) {
    super(`${cmdlet} changes the tenant, but this command is read-only (a bug in the action that called it)`);
    this.name = 'ReadOnlyViolation';
  }
}

/** A read given up before it started because the run was stopped (Ctrl-C, SIGTERM): nothing ran. */
export class InterruptedRead extends Error {
  constructor(cmdlet: string) {
    super(`${cmdlet} was not started: the run was interrupted`);
    this.name = 'InterruptedRead';
  }
}

export function readOnlySession(session: ExchangeSession): ExchangeSession {
  const guard = (cmdlet: string) => {
    if (isWriteCmdlet(cmdlet) && !/^(Connect|Disconnect)-/i.test(cmdlet)) throw new ReadOnlyViolation(cmdlet);
  };
  return {
    kind: session.kind,
    ...clockOf(session),
    async invoke(cmdlet: string, parameters?: CmdletParameters, options?: InvokeOptions) {
      guard(cmdlet);
      return session.invoke(cmdlet, parameters, options);
    },
    async *stream(cmdlet: string, parameters?: CmdletParameters, options?: InvokeOptions) {
      guard(cmdlet);
      yield* session.stream(cmdlet, parameters, options);
    },
    close: () => session.close(),
  };
}

export interface CountingSession extends ExchangeSession {
  readonly writeCalls: number;
}

export function countingSession(session: ExchangeSession): CountingSession {
  let writes = 0;
  const count = (cmdlet: string) => {
    if (isWriteCmdlet(cmdlet)) writes += 1;
  };
  return {
    kind: session.kind,
    ...clockOf(session),
    get writeCalls() {
      return writes;
    },
    invoke(cmdlet: string, parameters?: CmdletParameters, options?: InvokeOptions) {
      count(cmdlet);
      return session.invoke(cmdlet, parameters, options);
    },
    stream(cmdlet: string, parameters?: CmdletParameters, options?: InvokeOptions) {
      count(cmdlet);
      return session.stream(cmdlet, parameters, options);
    },
    close: () => session.close(),
  };
}

/**
 * Calls judged by their error records (issue 9): the v3 cmdlets report most failures as
 * NON-terminating errors, so a call that "succeeded" may still have failed.
 * - A write that produced any error record throws CmdletFailure (apply journals it failed and retries
 *   it only on throttling, between its journal records).
 * - A read that produced any error record throws CmdletFailure too: it is never taken for a tenant
 *   state. Throttling and a lost PowerShell host are retried with backoff as a fresh, complete read;
 *   callers that expect "not found" catch the failure and look at it (isNotFoundRecord).
 * - A stream that fails after yielding objects is retried only when the caller passed onRestart (it
 *   drops what it collected): never a partial read stitched together.
 */
export function retryingReads(
  session: ExchangeSession,
  options: { policy: RetryPolicy; sleep: (ms: number) => Promise<void>; onRetry?: (cmdlet: string, attempt: number, delayMs: number) => void },
): ExchangeSession {
  const retrying = <T>(cmdlet: string, op: () => Promise<T>) =>
    withRetry(op, {
      policy: options.policy,
      sleep: options.sleep,
      retryable: isRetryableRead,
      onRetry: (attempt, delay) => options.onRetry?.(cmdlet, attempt, delay),
    }).then((r) => r.value);
  const strict = async (cmdlet: string, parameters?: CmdletParameters, invokeOptions?: InvokeOptions): Promise<InvokeResult> => {
    const result = await session.invoke(cmdlet, parameters, invokeOptions);
    const first = result.errors[0];
    if (first) throw new CmdletFailure(cmdlet, first);
    return result;
  };
  return {
    kind: session.kind,
    ...clockOf(session),
    invoke(cmdlet: string, parameters?: CmdletParameters, invokeOptions?: InvokeOptions) {
      if (isWriteCmdlet(cmdlet)) return strict(cmdlet, parameters, invokeOptions);
      return retrying(cmdlet, () => strict(cmdlet, parameters, invokeOptions));
    },
    stream(cmdlet: string, parameters?: CmdletParameters, invokeOptions?: InvokeOptions): AsyncIterable<PsObject> {
      if (isWriteCmdlet(cmdlet)) return session.stream(cmdlet, parameters, invokeOptions);
      return {
        [Symbol.asyncIterator]: async function* () {
          for (let attempt = 1; ; attempt += 1) {
            let yielded = false;
            try {
              if (attempt > 1 && invokeOptions?.onRestart) invokeOptions.onRestart();
              for await (const object of session.stream(cmdlet, parameters, invokeOptions)) {
                yielded = true;
                yield object;
              }
              return;
            } catch (error) {
              const restartable = !yielded || invokeOptions?.onRestart !== undefined;
              if (!restartable || attempt >= options.policy.attempts || !isRetryableRead(error)) throw error;
              const delay = backoffDelay(attempt, options.policy);
              options.onRetry?.(cmdlet, attempt, delay);
              await options.sleep(delay);
            }
          }
        },
      };
    },
    close: () => session.close(),
  };
}

/** A read may be retried after throttling, or after the host it ran on died (nothing was changed). */
export function isRetryableRead(error: unknown): boolean {
  return isThrottling(error) || error instanceof SessionLost;
}
