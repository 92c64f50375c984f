/**
 * Session wrappers the engine puts between actions and the backend: plan and verify get a session
 * that refuses writes (read-only is enforced, not hoped for), apply gets one that counts writes.
 */
import type { CmdletParameters, ExchangeSession, InvokeOptions } from '../exchange/session.js';
import { isWriteCmdlet } from '../exchange/session.js';

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
    invoke(cmdlet: string, parameters?: CmdletParameters, options?: InvokeOptions) {
      guard(cmdlet);
      return session.invoke(cmdlet, parameters, options);
    },
    stream(cmdlet: string, parameters?: CmdletParameters, options?: InvokeOptions) {
      guard(cmdlet);
      return session.stream(cmdlet, parameters, options);
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
