/**
 * The write pool behind `--concurrency N`: at most N writes in flight, never two on one session,
 * extra sessions opened only when a step has several changes, and every session closed whatever
 * happens (a failed change, a failure after the writes, Ctrl-C, a refused sign-in).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineDeps } from '../../src/engine/deps.js';
import { runApply } from '../../src/engine/run-apply.js';
import { runRollback } from '../../src/engine/run-rollback.js';
import { createSessionPool } from '../../src/engine/session-pool.js';
import type { ExchangeSession } from '../../src/exchange/session.js';
import type { PsValue } from '../../src/exchange/session.js';
import type { EventSink, RunEvent } from '../../src/engine/types.js';
import { fakeApplyOptions, fakePlaybook, fakeSession, type FakeSession } from './fakes.js';

let dirs: string[] = [];
afterEach(() => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  dirs = [];
});

interface TrackedSession extends FakeSession {
  closes: number;
  writes: number;
}

/** A tenant every opened session shares (like one Exchange org), with global in-flight accounting. */
function fakeTenant(initial: Record<string, PsValue>, options: { delayMs?: number; refuseAfter?: number } = {}) {
  const store = new Map(Object.entries(initial));
  const sessions: TrackedSession[] = [];
  const tenant = { store, sessions, inFlight: 0, maxInFlight: 0, opens: 0 };
  const openTarget = async (): Promise<ExchangeSession> => {
    tenant.opens += 1;
    if (options.refuseAfter !== undefined && tenant.opens > options.refuseAfter) throw new Error('AADSTS50126: sign-in refused');
    const session = fakeSession({}, options.delayMs ?? 0) as TrackedSession;
    session.store = store;
    session.closes = 0;
    session.writes = 0;
    const invoke = session.invoke.bind(session);
    session.invoke = async (cmdlet, parameters) => {
      if (cmdlet.startsWith('Set-')) session.writes += 1;
      tenant.inFlight += 1;
      tenant.maxInFlight = Math.max(tenant.maxInFlight, tenant.inFlight);
      try {
        return await invoke(cmdlet, parameters);
      } finally {
        tenant.inFlight -= 1;
      }
    };
    session.close = async () => {
      session.closes += 1;
    };
    sessions.push(session);
    return session;
  };
  return { tenant, openTarget };
}

function setup(openTarget: EngineDeps['openTarget'], steps: Parameters<typeof fakePlaybook>[0], concurrency: number) {
  const dir = mkdtempSync(join(tmpdir(), 'exo-pool-'));
  dirs.push(dir);
  const events: RunEvent[] = [];
  const options = {
    ...fakeApplyOptions(dir, openTarget, steps, concurrency),
    sinks: [{ emit: (e: RunEvent) => void events.push(e) }] as EventSink[],
  };
  return { options, events };
}

const keys = (n: number) => Array.from({ length: n }, (_, i) => `m${i + 1}`);
const allNull = (n: number) => Object.fromEntries(keys(n).map((k) => [k, null]));
const allFalse = (n: number) => Object.fromEntries(keys(n).map((k) => [k, false]));

describe('apply --concurrency with a session pool', () => {
  it('3 writers on 3 sessions: never more than 3 writes in flight, never 2 on one session, every session closed', async () => {
    const { tenant, openTarget } = fakeTenant(allNull(12), { delayMs: 15 });
    const { options } = setup(openTarget, [{ id: 'allow', values: allFalse(12) }], 3);
    const report = await runApply(options);

    expect(report.summary).toEqual({ applied: 12, failed: 0, skipped: 0 });
    expect(report.verify?.compliant).toBe(true);
    expect(report.writeCalls).toBe(12);
    expect(tenant.sessions).toHaveLength(3);
    expect(tenant.maxInFlight).toBe(3);
    for (const s of tenant.sessions) expect(s.maxInFlight).toBe(1);
    // The work really was spread: every session wrote.
    expect(tenant.sessions.map((s) => s.writes > 0)).toEqual([true, true, true]);
    expect(tenant.sessions.map((s) => s.closes)).toEqual([1, 1, 1]);
    expect([...tenant.store.values()].every((v) => v === false)).toBe(true);
  });

  it('opens no extra session when no step has more than one change to write', async () => {
    const { tenant, openTarget } = fakeTenant({ a: null, b: null });
    const { options } = setup(openTarget, [{ id: 's1', values: { a: false } }, { id: 's2', values: { b: false } }], 3);
    const report = await runApply(options);
    expect(report.summary.applied).toBe(2);
    expect(tenant.opens).toBe(1);
  });

  it('opens only as many sessions as the step has changes, and keeps them for later steps', async () => {
    const { tenant, openTarget } = fakeTenant(allNull(4), { delayMs: 5 });
    const { options } = setup(openTarget, [{ id: 's1', values: { m1: false, m2: false } }, { id: 's2', values: { m3: false, m4: false } }], 3);
    const report = await runApply(options);
    expect(report.summary.applied).toBe(4);
    expect(tenant.opens).toBe(2);
    expect(tenant.sessions.map((s) => s.closes)).toEqual([1, 1]);
  });

  it('a failed change fails only itself; every session is still closed', async () => {
    const { tenant, openTarget } = fakeTenant(allNull(6), { delayMs: 5 });
    const { options } = setup(openTarget, [{ id: 'allow', values: allFalse(6) }], 3);
    // The failure is armed on whichever session writes m2: arm it on every one.
    const open = options.deps.openTarget;
    options.deps.openTarget = async (...args) => {
      const s = (await open(...args)) as FakeSession;
      s.failNext('m2', 1, 'Access denied');
      return s;
    };
    const report = await runApply(options);
    expect(report.summary).toEqual({ applied: 5, failed: 1, skipped: 0 });
    expect(report.results.find((r) => r.status === 'failed')?.target).toBe('m2');
    expect(tenant.sessions).toHaveLength(3);
    expect(tenant.sessions.map((s) => s.closes)).toEqual([1, 1, 1]);
  });

  it('a failure after the writes (verify cannot read) still closes every session', async () => {
    const { tenant, openTarget } = fakeTenant(allNull(6), { delayMs: 5 });
    const { options } = setup(openTarget, [{ id: 'allow', values: allFalse(6) }], 3);
    let reads = 0;
    const open = options.deps.openTarget;
    options.deps.openTarget = async (...args) => {
      const s = await open(...args);
      const invoke = s.invoke.bind(s);
      s.invoke = async (cmdlet, parameters) => {
        if (cmdlet === 'Get-All' && ++reads > 1) throw new Error('connection reset');
        return invoke(cmdlet, parameters);
      };
      return s;
    };
    await expect(runApply(options)).rejects.toThrow('connection reset');
    expect(tenant.sessions).toHaveLength(3);
    expect(tenant.sessions.map((s) => s.closes)).toEqual([1, 1, 1]);
  });

  it('Ctrl-C: writes in flight finish, no new ones start, every session is closed', async () => {
    const { tenant, openTarget } = fakeTenant(allNull(12), { delayMs: 20 });
    const { options } = setup(openTarget, [{ id: 'allow', values: allFalse(12) }], 3);
    const controller = new AbortController();
    let started = 0;
    options.sinks.push({
      emit: (e: RunEvent) => {
        if (e.type === 'change-start' && ++started === 3) controller.abort();
      },
    });
    const report = await runApply({ ...options, signal: controller.signal });
    expect(report.interrupted).toBe(true);
    expect(report.summary).toEqual({ applied: 3, failed: 0, skipped: 9 });
    expect([...tenant.store.values()].filter((v) => v === false)).toHaveLength(3);
    expect(tenant.sessions.map((s) => s.closes)).toEqual([1, 1, 1]);
  });

  it('a refused sign-in for an extra session is a warning: the writes go on with the sessions there are', async () => {
    const { tenant, openTarget } = fakeTenant(allNull(6), { delayMs: 5, refuseAfter: 2 });
    const { options, events } = setup(openTarget, [{ id: 'allow', values: allFalse(6) }], 3);
    const report = await runApply(options);
    expect(report.summary).toEqual({ applied: 6, failed: 0, skipped: 0 });
    expect(report.verify?.compliant).toBe(true);
    expect(tenant.sessions).toHaveLength(2);
    for (const s of tenant.sessions) expect(s.maxInFlight).toBe(1);
    const warnings = events.filter((e) => e.type === 'warning').map((e) => e.message);
    expect(warnings).toEqual([expect.stringMatching(/could not open session 3 of 3 for parallel writes \(AADSTS50126: sign-in refused\); the writes go on over the other sessions/)]);
    expect(tenant.sessions.map((s) => s.closes)).toEqual([1, 1]);
  });

  it('a slow sign-in does not hold the writes up: they start on the run\'s session, the late session is still closed', async () => {
    const { tenant, openTarget } = fakeTenant(allNull(6), { delayMs: 5 });
    const { options } = setup(openTarget, [{ id: 'allow', values: allFalse(6) }], 2);
    let opens = 0;
    let writesWhenSignedIn = -1;
    options.deps.openTarget = async () => {
      if (++opens === 2) {
        await new Promise((r) => setTimeout(r, 300));
        writesWhenSignedIn = tenant.sessions[0]!.writes;
      }
      return openTarget();
    };
    const report = await runApply(options);
    expect(report.summary.applied).toBe(6);
    // Every write was done on the run's own session before the second one finished signing in.
    expect(writesWhenSignedIn).toBe(6);
    expect(tenant.sessions).toHaveLength(2);
    expect(tenant.sessions[1]!.writes).toBe(0);
    expect(tenant.sessions.map((s) => s.closes)).toEqual([1, 1]);
  });

  it('rollback writes through the pool too and restores every value', async () => {
    const { tenant, openTarget } = fakeTenant(allNull(6), { delayMs: 5 });
    const { options } = setup(openTarget, [{ id: 'allow', values: allFalse(6) }], 3);
    const applied = await runApply(options);
    const back = await runRollback({ ...options, runDir: applied.runDir, targetGiven: true });
    expect(back.summary).toEqual({ applied: 6, failed: 0, skipped: 0 });
    expect(back.verify?.compliant).toBe(true);
    expect(back.writeCalls).toBe(6);
    expect([...tenant.store.values()].every((v) => v === null)).toBe(true);
    expect(tenant.sessions).toHaveLength(6);
    for (const s of tenant.sessions) expect(s.maxInFlight).toBe(1);
    expect(tenant.sessions.every((s) => s.closes === 1)).toBe(true);
  });
});

describe('createSessionPool', () => {
  const primary = fakeSession({});
  const settle = (slots: readonly Promise<ExchangeSession | undefined>[]) => Promise.all(slots);

  it('never hands out more than the maximum, nor more than 3; asking again reuses the slots', async () => {
    let opened = 0;
    const pool = createSessionPool({ primary, max: 5, openExtra: async () => (opened++, fakeSession({})) });
    const three = await settle(pool.slots(10));
    expect(three).toHaveLength(3);
    expect(three[0]).toBe(primary);
    expect(new Set(three).size).toBe(3);
    expect(await settle(pool.slots(2))).toEqual(three.slice(0, 2));
    expect(opened).toBe(2);
    await pool.close();
  });

  it('opens nothing after Ctrl-C, and a session that finishes signing in after close() is closed at once', async () => {
    const aborted = new AbortController();
    aborted.abort();
    let opened = 0;
    const none = createSessionPool({ primary, max: 3, signal: aborted.signal, openExtra: async () => (opened++, fakeSession({})) });
    expect(await settle(none.slots(3))).toEqual([primary]);
    expect(opened).toBe(0);

    let release!: () => void;
    const late = fakeSession({});
    let lateClosed = 0;
    late.close = async () => {
      lateClosed += 1;
    };
    const pool = createSessionPool({ primary, max: 2, openExtra: () => new Promise((r) => (release = () => r(late))) });
    const asked = pool.slots(2);
    const closing = pool.close();
    release();
    await closing;
    expect(await settle(asked)).toEqual([primary, undefined]);
    expect(lateClosed).toBe(1);
  });

  it('a failed sign-in resolves its slot to nothing, warns once, and no further session is tried', async () => {
    const warnings: string[] = [];
    let tries = 0;
    const pool = createSessionPool({
      primary,
      max: 3,
      onWarning: (m) => warnings.push(m),
      openExtra: async () => {
        tries += 1;
        throw new Error('sign-in refused');
      },
    });
    expect(await settle(pool.slots(2))).toEqual([primary, undefined]);
    expect(await settle(pool.slots(3))).toEqual([primary, undefined]);
    expect(tries).toBe(1);
    expect(warnings).toEqual(['could not open session 2 of 2 for parallel writes (sign-in refused); the writes go on over the other sessions']);
    await pool.close();
  });
});
