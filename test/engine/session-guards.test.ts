import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../src/engine/fingerprint.js';
import { countingSession, readOnlySession, retryingReads } from '../../src/engine/session-guards.js';
import { CmdletFailure, SessionLost, type ExchangeSession, type InvokeResult, type PsObject } from '../../src/exchange/session.js';

const throttled = () => new CmdletFailure('Get-EXOCASMailbox', { exceptionType: 'X', fullyQualifiedErrorId: 'X', message: 'Server Busy' });

function flakyStream(failures: { beforeFirst: number; afterFirst: boolean }): ExchangeSession & { streams: number; invokes: number } {
  const s = {
    kind: 'simulator' as const,
    streams: 0,
    invokes: 0,
    async invoke() {
      s.invokes += 1;
      if (s.invokes <= failures.beforeFirst) throw throttled();
      return { objects: [{ n: 1 }], warnings: [], errors: [] };
    },
    async *stream(): AsyncIterable<PsObject> {
      s.streams += 1;
      if (s.streams <= failures.beforeFirst) throw throttled();
      yield { n: 1 };
      if (failures.afterFirst) throw throttled();
      yield { n: 2 };
    },
    async close() {},
  };
  return s;
}

const policy = { attempts: 4, baseDelayMs: 1, maxDelayMs: 1, random: () => 0 };

describe('retryingReads', () => {
  it('retries a throttled read and a stream that failed before its first object', async () => {
    const inner = flakyStream({ beforeFirst: 2, afterFirst: false });
    const retries: string[] = [];
    const session = retryingReads(inner, { policy, sleep: async () => {}, onRetry: (c) => retries.push(c) });
    const seen: PsObject[] = [];
    for await (const o of session.stream('Get-EXOCASMailbox')) seen.push(o);
    expect(seen).toEqual([{ n: 1 }, { n: 2 }]);
    expect(retries).toHaveLength(2);
    expect((await session.invoke('Get-TransportConfig')).objects).toEqual([{ n: 1 }]);
  });

  it('never restarts a stream that already yielded (no object is seen twice)', async () => {
    const session = retryingReads(flakyStream({ beforeFirst: 0, afterFirst: true }), { policy, sleep: async () => {} });
    const seen: PsObject[] = [];
    await expect(
      (async () => {
        for await (const o of session.stream('Get-EXOCASMailbox')) seen.push(o);
      })(),
    ).rejects.toThrow(/Server Busy/);
    expect(seen).toEqual([{ n: 1 }]);
  });
});

describe('retryingReads judges calls by their error records', () => {
  const record = (message: string) => ({ exceptionType: 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', fullyQualifiedErrorId: 'X', message });
  const scripted = (results: (() => Promise<InvokeResult>)[]): ExchangeSession & { calls: number } => {
    const s = {
      kind: 'pwsh' as const,
      calls: 0,
      invoke: () => results[Math.min(s.calls++, results.length - 1)]!(),
      async *stream(): AsyncIterable<PsObject> {},
      async close() {},
    };
    return s;
  };

  it('a write with a non-terminating error record fails with the service text, and is not retried here', async () => {
    const inner = scripted([async () => ({ objects: [], warnings: [], errors: [record('Server Busy')] })]);
    const session = retryingReads(inner, { policy, sleep: async () => {} });
    await expect(session.invoke('Set-CASMailbox', { Identity: 'x' })).rejects.toThrow('Set-CASMailbox: Server Busy (RecipientTaskException)');
    expect(inner.calls).toBe(1);
  });

  it('a read with an error record fails unless it is throttling, which is read again from scratch', async () => {
    const failing = scripted([async () => ({ objects: [{ n: 1 }], warnings: [], errors: [record('The user is locked.')] })]);
    await expect(retryingReads(failing, { policy, sleep: async () => {} }).invoke('Get-User')).rejects.toBeInstanceOf(CmdletFailure);
    const throttled = scripted([
      async () => ({ objects: [{ n: 1 }], warnings: [], errors: [record('Server Busy')] }),
      async () => ({ objects: [{ n: 1 }, { n: 2 }], warnings: [], errors: [] }),
    ]);
    expect((await retryingReads(throttled, { policy, sleep: async () => {} }).invoke('Get-User')).objects).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('a read lost with its PowerShell host is retried; a write so lost is not (its outcome is unknown)', async () => {
    const lost = () => scripted([async () => Promise.reject(new SessionLost('PowerShell exited during the call')), async () => ({ objects: [{ n: 1 }], warnings: [], errors: [] })]);
    expect((await retryingReads(lost(), { policy, sleep: async () => {} }).invoke('Get-TransportConfig')).objects).toHaveLength(1);
    await expect(retryingReads(lost(), { policy, sleep: async () => {} }).invoke('Set-TransportConfig')).rejects.toBeInstanceOf(SessionLost);
  });

  it('restarts a stream that already yielded only when the caller can drop what it has (onRestart)', async () => {
    const restarts: number[] = [];
    const seen: PsObject[] = [];
    const session = retryingReads(flakyStream({ beforeFirst: 0, afterFirst: true }), { policy, sleep: async () => {} });
    await expect(
      (async () => {
        for await (const o of session.stream('Get-EXOCASMailbox', {}, { onRestart: () => restarts.push(seen.splice(0).length) })) seen.push(o);
      })(),
    ).rejects.toThrow(/Server Busy/);
    // Every attempt failed after one object: each restart dropped it, none was kept twice.
    expect(restarts).toEqual([1, 1, 1]);
    expect(seen).toEqual([{ n: 1 }]);
  });
});

describe('readOnlySession and countingSession', () => {
  it('refuses writes on a read-only session, counts writes on a counting one', async () => {
    const inner = flakyStream({ beforeFirst: 0, afterFirst: false });
    await expect(readOnlySession(inner).invoke('Set-CASMailbox', {})).rejects.toThrow(/read-only/);
    expect((await readOnlySession(inner).invoke('Get-CASMailbox')).objects).toHaveLength(1);
    const counting = countingSession(inner);
    await counting.invoke('Get-CASMailbox');
    await counting.invoke('Set-CASMailbox').catch(() => {});
    expect(counting.writeCalls).toBe(1);
  });
});

describe('fingerprint', () => {
  it('does not depend on key order, and tells any value change apart (property)', () => {
    const value = fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.boolean(), fc.constant(null), fc.integer(), fc.string({ maxLength: 6 })));
    fc.assert(
      fc.property(value, (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(fingerprintOf(reversed)).toBe(fingerprintOf(obj));
        for (const key of Object.keys(obj)) {
          const changed = { ...obj, [key]: obj[key] === null ? false : null };
          expect(fingerprintOf(changed)).not.toBe(fingerprintOf(obj));
        }
      }),
    );
  });
});
