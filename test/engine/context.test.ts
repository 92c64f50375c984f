/**
 * The run's clock is the tenant's: a simulated tenant with state.clock set dates everything an
 * action computes (search windows, job ages), through every wrapper the engine puts around it.
 */
import { describe, expect, it } from 'vitest';
import { createRunContext } from '../../src/engine/context.js';
import { countingSession, readOnlySession, retryingReads } from '../../src/engine/session-guards.js';
import { DEFAULT_RETRY } from '../../src/engine/retry.js';
import { ConnectedSession } from '../../src/exchange/connect/connected-session.js';
import type { Connector } from '../../src/exchange/connect/connector.js';
import { SimulatedSession } from '../../src/exchange/simulator/session.js';
import { smallTenant } from '../exchange/connect/tenant-state.js';

const CLOCK = '2026-06-01T10:00:00.000Z';

function simulated(clock: string | null): SimulatedSession {
  return SimulatedSession.fromState({ ...smallTenant('contoso.onmicrosoft.com'), clock });
}

const signedIn: Connector = {
  description: { method: 'managed-identity', signIn: 'token' } as unknown as Connector['description'],
  connect: async () => {},
  expiresOn: () => null,
};

describe('RunContext.now follows the session clock', () => {
  it('is the simulated tenant clock through the retry, read-only, counting and sign-in wrappers', async () => {
    const connected = await ConnectedSession.open(simulated(CLOCK), signedIn);
    const wrapped = countingSession(readOnlySession(retryingReads(connected, { policy: DEFAULT_RETRY, sleep: async () => {} })));
    expect(createRunContext({ session: wrapped }).now().toISOString()).toBe(CLOCK);
  });

  it('is the real clock for a tenant without one', () => {
    const before = Date.now();
    const now = createRunContext({ session: simulated(null) }).now().getTime();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it('an explicit now still wins (explain dates its plan itself)', () => {
    const fixed = new Date('2030-01-01T00:00:00.000Z');
    expect(createRunContext({ session: simulated(CLOCK), now: () => fixed }).now()).toBe(fixed);
  });
});
