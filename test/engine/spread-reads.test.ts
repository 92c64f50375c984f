/**
 * The observe phase's reads over the run's sessions (src/engine/spread-reads.ts, apply --concurrency):
 * each read goes to a free session, the run's own first; the extras join when they sign in; anything
 * that is not a read stays on the run's own session; a read waiting for a session honours its stop
 * signal; a bulk read holds its session until it has been read to the end.
 */
import { describe, expect, it } from 'vitest';
import { spreadingReads } from '../../src/engine/spread-reads.js';
import type { ExchangeSession, InvokeResult, PsObject } from '../../src/exchange/session.js';

interface Call {
  session: string;
  cmdlet: string;
  finish: () => void;
}

/** A session whose calls stay in flight until the test finishes them; `log` is shared by all. */
function heldSession(name: string, log: Call[], objects: PsObject[] = [{ Name: name }]): ExchangeSession {
  const call = (cmdlet: string) =>
    new Promise<void>((finish) => {
      log.push({ session: name, cmdlet, finish });
    });
  return {
    kind: 'pwsh',
    async invoke(cmdlet): Promise<InvokeResult> {
      await call(cmdlet);
      return { objects, warnings: [], errors: [] };
    },
    async *stream(cmdlet) {
      await call(cmdlet);
      yield* objects;
    },
    close: async () => undefined,
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const inFlight = (log: Call[], done: Set<Call>) => log.filter((c) => !done.has(c)).map((c) => `${c.session}:${c.cmdlet}`);

function finisher(log: Call[]) {
  const done = new Set<Call>();
  return {
    done,
    finish: (session: string, cmdlet: string) => {
      const call = log.find((c) => !done.has(c) && c.session === session && c.cmdlet === cmdlet);
      if (!call) throw new Error(`no ${cmdlet} in flight on ${session}: ${inFlight(log, done).join(', ')}`);
      done.add(call);
      call.finish();
    },
  };
}

function deferredSession() {
  let resolve!: (s: ExchangeSession | undefined) => void;
  const promise = new Promise<ExchangeSession | undefined>((r) => (resolve = r));
  return { promise, resolve };
}

describe('spreading observe reads over the sessions of apply --concurrency', () => {
  it('with only the run’s own session signed in, reads run one at a time on it, in the order asked', async () => {
    const log: Call[] = [];
    const { done, finish } = finisher(log);
    const later = deferredSession();
    const session = spreadingReads(heldSession('own', log), [later.promise]);
    const reads = ['Get-TransportConfig', 'Get-OrganizationConfig', 'Get-AuthenticationPolicy'].map((c) => session.invoke(c));
    await tick();
    expect(inFlight(log, done)).toEqual(['own:Get-TransportConfig']);
    finish('own', 'Get-TransportConfig');
    await tick();
    expect(inFlight(log, done)).toEqual(['own:Get-OrganizationConfig']);
    finish('own', 'Get-OrganizationConfig');
    await tick();
    finish('own', 'Get-AuthenticationPolicy');
    expect((await Promise.all(reads)).map((r) => r.objects[0]!.Name)).toEqual(['own', 'own', 'own']);
  });

  it('an extra session takes the waiting reads as soon as it is signed in: reads run side by side', async () => {
    const log: Call[] = [];
    const { done, finish } = finisher(log);
    const two = deferredSession();
    const three = deferredSession();
    const session = spreadingReads(heldSession('own', log), [two.promise, three.promise]);
    const reads = ['Get-EXOCASMailbox', 'Get-OrganizationConfig', 'Get-AuthenticationPolicy', 'Get-User'].map((c) => session.invoke(c));
    await tick();
    expect(inFlight(log, done)).toEqual(['own:Get-EXOCASMailbox']);
    two.resolve(heldSession('two', log));
    await tick();
    expect(inFlight(log, done)).toEqual(['own:Get-EXOCASMailbox', 'two:Get-OrganizationConfig']);
    three.resolve(heldSession('three', log));
    await tick();
    expect(inFlight(log, done)).toEqual(['own:Get-EXOCASMailbox', 'two:Get-OrganizationConfig', 'three:Get-AuthenticationPolicy']);
    // The first session to finish takes the next read.
    finish('three', 'Get-AuthenticationPolicy');
    await tick();
    expect(inFlight(log, done)).toEqual(['own:Get-EXOCASMailbox', 'two:Get-OrganizationConfig', 'three:Get-User']);
    finish('own', 'Get-EXOCASMailbox');
    finish('two', 'Get-OrganizationConfig');
    finish('three', 'Get-User');
    expect((await Promise.all(reads)).map((r) => r.objects[0]!.Name)).toEqual(['own', 'two', 'three', 'three']);
  });

  it('prefers the run’s own session when it is free, and an extra that never signs in takes nothing', async () => {
    const log: Call[] = [];
    const { done, finish } = finisher(log);
    const session = spreadingReads(heldSession('own', log), [Promise.resolve(heldSession('two', log)), Promise.resolve(undefined), Promise.reject(new Error('sign-in refused'))]);
    await tick();
    const first = session.invoke('Get-TransportConfig');
    await tick();
    expect(inFlight(log, done)).toEqual(['own:Get-TransportConfig']);
    const second = session.invoke('Get-OrganizationConfig');
    const third = session.invoke('Get-AuthenticationPolicy');
    await tick();
    // Two signed-in sessions, three reads: the third waits for whichever finishes first.
    expect(inFlight(log, done)).toEqual(['own:Get-TransportConfig', 'two:Get-OrganizationConfig']);
    finish('own', 'Get-TransportConfig');
    await tick();
    expect(inFlight(log, done)).toEqual(['two:Get-OrganizationConfig', 'own:Get-AuthenticationPolicy']);
    finish('two', 'Get-OrganizationConfig');
    finish('own', 'Get-AuthenticationPolicy');
    expect((await Promise.all([first, second, third])).map((r) => r.objects[0]!.Name)).toEqual(['own', 'two', 'own']);
  });

  it('anything that is not a read (a search submission, a write) only ever runs on the run’s own session', async () => {
    const log: Call[] = [];
    const { done, finish } = finisher(log);
    const session = spreadingReads(heldSession('own', log), [Promise.resolve(heldSession('two', log))]);
    await tick();
    const read = session.invoke('Get-User');
    const submit = session.invoke('Start-HistoricalSearch');
    const another = session.invoke('Get-HistoricalSearch');
    await tick();
    // own reads, two is free, yet the submission waits for own; the read after it takes two.
    expect(inFlight(log, done)).toEqual(['own:Get-User', 'two:Get-HistoricalSearch']);
    finish('two', 'Get-HistoricalSearch');
    await tick();
    expect(inFlight(log, done)).toEqual(['own:Get-User']);
    finish('own', 'Get-User');
    await tick();
    expect(inFlight(log, done)).toEqual(['own:Start-HistoricalSearch']);
    finish('own', 'Start-HistoricalSearch');
    expect((await submit).objects[0]!.Name).toBe('own');
    await Promise.all([read, another]);
  });

  it('a bulk read holds its session until it has been read to the end (or given up)', async () => {
    const log: Call[] = [];
    const { done, finish } = finisher(log);
    const session = spreadingReads(heldSession('own', log, [{ Name: 'a' }, { Name: 'b' }]), []);
    const iterator = session.stream('Get-EXOCASMailbox')[Symbol.asyncIterator]();
    const first = iterator.next();
    await tick();
    finish('own', 'Get-EXOCASMailbox');
    expect((await first).value).toEqual({ Name: 'a' });
    const waiting = session.invoke('Get-User');
    await tick();
    expect(inFlight(log, done)).toEqual([]);
    // The reader stops early: the session is free again.
    await iterator.return!(undefined);
    await tick();
    expect(inFlight(log, done)).toEqual(['own:Get-User']);
    finish('own', 'Get-User');
    await waiting;
  });

  it('a read waiting for a session is given up when its stop signal fires, and never starts', async () => {
    const log: Call[] = [];
    const { done, finish } = finisher(log);
    const session = spreadingReads(heldSession('own', log), []);
    const stop = new AbortController();
    const busy = session.invoke('Get-EXOCASMailbox');
    const waiting = session.invoke('Get-User', {}, { signal: stop.signal });
    await tick();
    stop.abort();
    await expect(waiting).rejects.toThrow(/Get-User was not started: the run was interrupted/);
    finish('own', 'Get-EXOCASMailbox');
    await busy;
    await tick();
    expect(log.map((c) => c.cmdlet)).toEqual(['Get-EXOCASMailbox']);
    await expect(session.invoke('Get-User', {}, { signal: stop.signal })).rejects.toThrow(/not started/);
    expect(inFlight(log, done)).toEqual([]);
  });
});
