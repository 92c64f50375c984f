/**
 * Session wrappers the engine puts between actions and the backend: plan and verify get a session
 * that refuses writes (read-only is enforced, not hoped for), apply gets one that counts writes.
 */
import type { CmdletParameters, ExchangeSession, InvokeOptions, PsObject } from '../exchange/session.js';
import { clockOf, isWriteCmdlet } from '../exchange/session.js';
import { backoffDelay, isThrottling, withRetry, type RetryPolicy } from './retry.js';

export class ReadOnlyViolation extends Error {
  constructor(cmdlet: string) {
    super(`${cmdlet} changes the tenant, but this command is read-only (a bug in the action that called it)`);
    this.name = 'ReadOnlyViolation';
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
 * Reads retried on throttling too (a throttled bulk read would otherwise fail the whole run). Writes
 * are not retried here: apply retries them per change, between its journal records. A stream is
 * retried only while it has yielded nothing, so no object is ever seen twice.
 */
export function retryingReads(
  session: ExchangeSession,
  options: { policy: RetryPolicy; sleep: (ms: number) => Promise<void>; onRetry?: (cmdlet: string, attempt: number, delayMs: number) => void },
): ExchangeSession {
  const retrying = <T>(cmdlet: string, op: () => Promise<T>) =>
    withRetry(op, { policy: options.policy, sleep: options.sleep, onRetry: (attempt, delay) => options.onRetry?.(cmdlet, attempt, delay) }).then((r) => r.value);
  return {
    kind: session.kind,
    ...clockOf(session),
    invoke(cmdlet: string, parameters?: CmdletParameters, invokeOptions?: InvokeOptions) {
      if (isWriteCmdlet(cmdlet)) return session.invoke(cmdlet, parameters, invokeOptions);
      return retrying(cmdlet, () => session.invoke(cmdlet, parameters, invokeOptions));
    },
    stream(cmdlet: string, parameters?: CmdletParameters, invokeOptions?: InvokeOptions): AsyncIterable<PsObject> {
      if (isWriteCmdlet(cmdlet)) return session.stream(cmdlet, parameters, invokeOptions);
      return {
        [Symbol.asyncIterator]: async function* () {
          for (let attempt = 1; ; attempt += 1) {
            let yielded = false;
            try {
              for await (const object of session.stream(cmdlet, parameters, invokeOptions)) {
                yielded = true;
                yield object;
              }
              return;
            } catch (error) {
              if (yielded || attempt >= options.policy.attempts || !isThrottling(error)) throw error;
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
