/**
 * The fault knobs of state.faults (docs/STATE-FILE.md), applied per call before the simulated service
 * runs it. Calls are counted per session from 1, like the stub module counts them per process.
 * Throttling, "Server Busy" and the service errors of faults.errors are NON-terminating error records,
 * as the v3 module reports them; only a crash loses the call.
 */
import type { CmdletErrorRecord } from '../session.js';
import { SessionLost } from '../session.js';
import { SessionError } from '../../errors.js';
import type { BoundParameters } from './parameters.js';
import { objectNotFound, recipientTaskError, restError, serverBusy, throttled } from './records.js';
import type { SimErrorFault, SimFaults } from './state.js';

/** The error record a call reports instead of (or, mid-stream, after some of) its output. */
export interface InjectedError {
  record: CmdletErrorRecord;
  /** Bulk reads: the error comes after this many objects and ends the read. Absent: before any output. */
  afterObjects?: number;
}

export interface FaultCall {
  call: number;
  cmdlet: string;
  parameters: BoundParameters;
  server: string;
  /** Per-session hit counts of faults.errors entries (their `times`). */
  hits: Map<number, number>;
}

export function injectFault(faults: SimFaults, { call, cmdlet, parameters, server, hits }: FaultCall): InjectedError | undefined {
  if (faults.crashOnCall !== undefined && call === faults.crashOnCall) {
    // Mirrors a pwsh host that died mid-call: this call is lost, the next one gets a fresh session.
    throw new SessionLost(`the simulated Exchange session crashed during ${cmdlet} (call ${call}, faults.crashOnCall); the next call starts a new session`);
  }
  if (faults.throttleEveryN && call % faults.throttleEveryN === 0) return { record: throttled(cmdlet) };
  if (faults.transientEveryN && call % faults.transientEveryN === 0) return { record: serverBusy(cmdlet) };
  const index = (faults.errors ?? []).findIndex(
    (f, i) => f.cmdlet.toLowerCase() === cmdlet.toLowerCase() && (f.fromCall === undefined || call >= f.fromCall) && (f.times === undefined || (hits.get(i) ?? 0) < f.times),
  );
  if (index < 0) return undefined;
  hits.set(index, (hits.get(index) ?? 0) + 1);
  const fault = faults.errors![index]!;
  const record = errorRecord(fault, cmdlet, identityOf(parameters), server);
  return fault.afterObjects === undefined ? { record } : { record, afterObjects: fault.afterObjects };
}

function errorRecord(fault: SimErrorFault, cmdlet: string, identity: string, server: string): CmdletErrorRecord {
  switch (fault.shape) {
    case 'not-found': {
      const record = objectNotFound(cmdlet, identity, server);
      return fault.message === undefined ? record : { ...record, message: fault.message };
    }
    case 'recipient-task':
      return recipientTaskError(cmdlet, fault.message ?? `The operation on '${identity}' failed on '${server}'.`, identity || null);
    case 'rest':
      return restError(cmdlet, fault.httpStatus ?? 500, fault.message ?? 'An error occurred while processing this request.');
  }
}

/** What the call names: -Identity (or the Get-EXO* alternatives, or a search's -JobId), else nothing. */
function identityOf(parameters: BoundParameters): string {
  for (const name of ['Identity', 'PrimarySmtpAddress', 'UserPrincipalName', 'JobId']) {
    const value = parameters.values.get(name);
    if (typeof value === 'string' && value.length > 0) return value;
  }
  return '';
}

/** faults.crashAfterCall: the call's change is saved, then its reply is lost (the session died). */
export function injectLostReply(faults: SimFaults, call: number, cmdlet: string, changed: boolean): void {
  if (changed && faults.crashAfterCall !== undefined && call === faults.crashAfterCall) {
    throw new SessionLost(`the simulated Exchange session crashed after ${cmdlet} ran (call ${call}, faults.crashAfterCall); its reply was lost, the next call starts a new session`);
  }
}

/** Waits `ms`, failing like a timed-out or cancelled call would. */
export async function simulateLatency(ms: number, cmdlet: string, timeoutMs?: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) throw new SessionError(`${cmdlet} was cancelled`);
  if (ms <= 0) return;
  const timedOut = timeoutMs !== undefined && timeoutMs < ms;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      if (timedOut) reject(new SessionError(`${cmdlet} timed out after ${timeoutMs} ms`));
      else resolve();
    }, timedOut ? timeoutMs : ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new SessionError(`${cmdlet} was cancelled`));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
