/**
 * The conformance referee: the same behaviours against the in-process simulator and against real
 * pwsh + the stub ExchangeOnlineManagement module, then one scripted run on both whose results and
 * resulting state files must be equal.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { SimulatedSession } from '../../../src/exchange/simulator/session.js';
import type { ExchangeSession, PsValue } from '../../../src/exchange/session.js';
import { CmdletFailure } from '../../../src/exchange/session.js';
import { fixtureTenant, noPwsh } from '../pwsh/pwsh-for-tests.js';
import { SharedStubHost } from '../pwsh/shared-host.js';
import { defineSessionBehaviours, normalizeRecord, readState, stateFileFor, type Backend } from './session-behaviours.js';

const simulator: Backend = { name: 'simulator', open: (file) => SimulatedSession.open(file) };
// One pwsh host for the file: each test leases it over its own fresh state file (shared-host.ts says
// how nothing leaks between tests: the stub rereads the file and restarts its fault counters).
const sharedHost = new SharedStubHost();
afterAll(() => sharedHost.close());
const pwshStub: Backend = { name: 'pwsh + stub module', open: (file) => sharedHost.lease(file) };

defineSessionBehaviours(simulator);
describe.skipIf(noPwsh)('pwsh', () => defineSessionBehaviours(pwshStub));

/** One scripted audit-disable-allowlist run; everything observable is returned as data. */
async function scriptedRun(session: ExchangeSession, names: string[], clock: string): Promise<PsValue[]> {
  const out: PsValue[] = [];
  const call = async (cmdlet: string, parameters: Record<string, PsValue> = {}) => {
    try {
      const r = await session.invoke(cmdlet, parameters);
      out.push({ cmdlet, objects: r.objects, warnings: r.warnings, errors: r.errors.map((e) => ({ ...normalizeRecord(cmdlet, e) })) });
      return r;
    } catch (error) {
      if (!(error instanceof CmdletFailure)) throw error;
      out.push({ cmdlet, failure: { ...normalizeRecord(cmdlet, error.record) } });
      return undefined;
    }
  };
  const start = new Date(Date.parse(clock) - 7 * 86_400_000).toISOString();
  const job = await call('Start-HistoricalSearch', { ReportTitle: 'audit', ReportType: 'SmtpCSReport', StartDate: start, EndDate: clock, NotifyAddress: ['a@contoso.com'] });
  const jobId = String(job?.objects[0]?.JobId);
  for (let i = 0; i < 4; i++) await call('Get-HistoricalSearch', { JobId: jobId });
  await call('Get-TransportConfig');
  await call('Set-TransportConfig', { SmtpClientAuthenticationDisabled: true });
  await call('Set-TransportConfig', { SmtpClientAuthenticationDisabled: true });
  await call('Get-EXOCASMailbox', { ResultSize: 'Unlimited', Properties: ['SmtpClientAuthenticationDisabled'] });
  await call('Set-CASMailbox', { Identity: names[0]!, SmtpClientAuthenticationDisabled: false });
  await call('Set-CASMailbox', { Identity: names[1]!, SmtpClientAuthenticationDisabled: null });
  await call('Set-CASMailbox', { Identity: names[2]!, SmtpClientAuthenticationDisabled: true });
  await call('Set-CASMailbox', { Identity: 'ghost@contoso.com', SmtpClientAuthenticationDisabled: false });
  await call('Get-CASMailbox', { Identity: 'ghost@contoso.com', ErrorAction: 'Stop' });
  await call('Stop-HistoricalSearch', { JobId: jobId });
  await call('Get-User', { ResultSize: 'Unlimited' });
  await call('Get-Mailbox', { ResultSize: 2 });
  await call('Get-OrganizationConfig');
  // Job ids are random per backend: compare them by position.
  return JSON.parse(JSON.stringify(out).split(jobId).join('<job>')) as PsValue[];
}

describe.skipIf(noPwsh)('simulator and pwsh + stub agree', () => {
  it('give the same results and leave the same state file after the same calls', async () => {
    const initial = fixtureTenant();
    const names = [initial.mailboxes[0]!.Alias, initial.mailboxes[4]!.UserPrincipalName, initial.mailboxes[8]!.PrimarySmtpAddress];
    const results: PsValue[][] = [];
    const states = [];
    for (const backend of [simulator, pwshStub]) {
      const file = stateFileFor(initial);
      const session = await backend.open(file);
      try {
        results.push(await scriptedRun(session, names, initial.clock!));
      } finally {
        await session.close();
      }
      const state = await readState(file);
      for (const job of state.historicalSearches) {
        // The FileUrl names the random JobId: compare it with the id replaced too.
        if (job.FileUrl) job.FileUrl = job.FileUrl.split(job.JobId).join('<job>');
        job.JobId = '<job>';
      }
      states.push(state);
    }
    expect(results[1]).toEqual(results[0]);
    expect(states[1]).toEqual(states[0]);
    // The run did change things (a test that cannot fail is a defect).
    expect(states[0]!.transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
    expect(states[0]!.historicalSearches[0]!.Status).toBe('Done');
  });
});
