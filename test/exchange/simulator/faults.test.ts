import { describe, expect, it } from 'vitest';
import { SimulatedSession } from '../../../src/exchange/simulator/session.js';
import { CmdletFailure } from '../../../src/exchange/session.js';
import { SessionError } from '../../../src/errors.js';
import { smallTenant } from './tenant-fixture.js';

async function outcomes(s: SimulatedSession, calls: number): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < calls; i++) {
    try {
      await s.invoke('Get-TransportConfig');
      seen.push('ok');
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

  it('crashOnCall loses that call with a SessionError; the next call works and nothing was written', async () => {
    const state = { ...smallTenant(), faults: { crashOnCall: 2 } };
    const s = SimulatedSession.fromState(state);
    await s.invoke('Get-TransportConfig');
    const crash = await s.invoke('Set-TransportConfig', { SmtpClientAuthenticationDisabled: true }).catch((e: unknown) => e);
    expect(crash).toBeInstanceOf(SessionError);
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
    const state = { ...smallTenant(), faults: { latencyMs: 5000 } };
    const s = SimulatedSession.fromState(state, { latencyMs: 0 });
    const started = Date.now();
    await s.invoke('Get-TransportConfig');
    expect(Date.now() - started).toBeLessThan(1000);
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
