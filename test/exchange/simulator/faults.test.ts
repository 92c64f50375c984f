import { describe, expect, it } from 'vitest';
import { SimulatedSession } from '../../../src/exchange/simulator/session.js';
import { CmdletFailure, SessionLost } from '../../../src/exchange/session.js';
import { SessionError } from '../../../src/errors.js';
import { within } from '../../support/wait.js';
import { smallTenant } from './tenant-fixture.js';

async function outcomes(s: SimulatedSession, calls: number): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < calls; i++) {
    try {
      const result = await s.invoke('Get-TransportConfig');
      // Service errors are non-terminating: the call returns its error records, and no object.
      seen.push(result.errors[0] ? `${result.errors[0].message}${result.objects.length ? ' +objects' : ''}` : 'ok');
    } catch (error) {
      seen.push(error instanceof CmdletFailure ? error.record.message : `${(error as Error).name}`);
    }
  }
  return seen;
}

describe('fault knobs', () => {
  it('throttleEveryN fails every Nth call with the throttling text, and the retry succeeds', async () => {
    const state = { ...smallTenant(), faults: { throttleEveryN: 3 } };
    const seen = await outcomes(SimulatedSession.fromState(state), 7);
    const throttled = 'You have reached the maximum number of concurrent requests per tenant. Please wait and try again';
    expect(seen).toEqual(['ok', 'ok', throttled, 'ok', 'ok', throttled, 'ok']);
  });

  it('transientEveryN fails with "Server Busy"', async () => {
    const state = { ...smallTenant(), faults: { transientEveryN: 2 } };
    expect(await outcomes(SimulatedSession.fromState(state), 4)).toEqual(['ok', 'Server Busy', 'ok', 'Server Busy']);
  });

  it('errors[] fails the named cmdlet in the chosen shape, `times` times, as a non-terminating error', async () => {
    const state = { ...smallTenant(), faults: { errors: [{ cmdlet: 'get-transportconfig', shape: 'recipient-task' as const, message: 'Nope.', times: 2 }] } };
    expect(await outcomes(SimulatedSession.fromState(state), 3)).toEqual(['Nope.', 'Nope.', 'ok']);
    const stop = await SimulatedSession.fromState(state).invoke('Get-TransportConfig', { ErrorAction: 'Stop' }).catch((e: unknown) => e);
    expect(stop).toBeInstanceOf(CmdletFailure);
    expect((stop as CmdletFailure).record.exceptionType).toBe('Microsoft.Exchange.Management.Tasks.RecipientTaskException');
  });

  it('crashOnCall loses that call with a SessionError; the next call works and nothing was written', async () => {
    const state = { ...smallTenant(), faults: { crashOnCall: 2 } };
    const s = SimulatedSession.fromState(state);
    await s.invoke('Get-TransportConfig');
    const crash = await s.invoke('Set-TransportConfig', { SmtpClientAuthenticationDisabled: true }).catch((e: unknown) => e);
    expect(crash).toBeInstanceOf(SessionLost);
    expect((crash as Error).message).toContain('crashed during Set-TransportConfig');
    expect(s.state.transportConfig.SmtpClientAuthenticationDisabled).toBe(false);
    await s.invoke('Set-TransportConfig', { SmtpClientAuthenticationDisabled: true });
    expect(s.state.transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
  });

  it('latencyMs delays every call; a call timeout shorter than the latency fails with SessionError', async () => {
    const state = { ...smallTenant(), faults: { latencyMs: 60 } };
    const s = SimulatedSession.fromState(state);
    const started = Date.now();
    await s.invoke('Get-TransportConfig');
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    await expect(s.invoke('Get-TransportConfig', {}, { timeoutMs: 10 })).rejects.toThrow('timed out after 10 ms');
  });

  it('the session option latencyMs overrides the state file', async () => {
    // An hour in the state file: the call ends only if the option's 0 was used.
    const state = { ...smallTenant(), faults: { latencyMs: 3_600_000 } };
    const s = SimulatedSession.fromState(state, { latencyMs: 0 });
    const result = await within(s.invoke('Get-TransportConfig'), 'the call with latencyMs 0 (the state file says an hour)', 60_000);
    expect(result.objects).toHaveLength(1);
  });

  it('an aborted signal cancels the call', async () => {
    const s = SimulatedSession.fromState({ ...smallTenant(), faults: { latencyMs: 5000 } });
    const controller = new AbortController();
    const pending = s.invoke('Get-TransportConfig', {}, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toThrow('was cancelled');
  });

  it('a closed session refuses calls', async () => {
    const s = SimulatedSession.fromState(smallTenant());
    await s.close();
    await s.close();
    await expect(s.invoke('Get-TransportConfig')).rejects.toBeInstanceOf(SessionError);
  });
});
