/**
 * The fault knobs of state.faults (docs/STATE-FILE.md), applied per call before the simulated service
 * runs it. Calls are counted per session from 1, like the stub module counts them per process.
 */
import { CmdletFailure } from '../session.js';
import { SessionError } from '../../errors.js';
import { serverBusy, throttled } from './records.js';
import type { SimFaults } from './state.js';

export function injectFault(faults: SimFaults, call: number, cmdlet: string): void {
  if (faults.crashOnCall !== undefined && call === faults.crashOnCall) {
    // Mirrors a pwsh host that died mid-call: this call is lost, the next one gets a fresh session.
    throw new SessionError(`the simulated Exchange session crashed during ${cmdlet} (call ${call}, faults.crashOnCall); the next call starts a new session`);
  }
  if (faults.throttleEveryN && call % faults.throttleEveryN === 0) throw new CmdletFailure(cmdlet, throttled(cmdlet));
  if (faults.transientEveryN && call % faults.transientEveryN === 0) throw new CmdletFailure(cmdlet, serverBusy(cmdlet));
}

/** faults.crashAfterCall: the call's change is saved, then its reply is lost (the session died). */
export function injectLostReply(faults: SimFaults, call: number, cmdlet: string, changed: boolean): void {
  if (changed && faults.crashAfterCall !== undefined && call === faults.crashAfterCall) {
    throw new SessionError(`the simulated Exchange session crashed after ${cmdlet} ran (call ${call}, faults.crashAfterCall); its reply was lost, the next call starts a new session`);
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
