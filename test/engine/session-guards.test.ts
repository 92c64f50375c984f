import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../src/engine/fingerprint.js';
import { countingSession, readOnlySession, retryingReads } from '../../src/engine/session-guards.js';
import { CmdletFailure, type ExchangeSession, type PsObject } from '../../src/exchange/session.js';

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
